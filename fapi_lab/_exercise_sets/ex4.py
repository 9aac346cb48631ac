"""Exercises for lessons 6 and 6b: residual connections, Inception modules, merges, 1×1 bottlenecks.

Two answers are functions from a tensor to a tensor (a block); their judges call them on fresh ``keras.Input``
tensors of several shapes, so a block that only fits one input shape does not pass. When the student's block
raises while it is being built (the usual failure of a merge), the layer calls made up to that point are read
back as a graph, so the message can name the branches by their layer names and shapes.

The judges also check what the numbers cannot see (issue 15, class 8: an answer that passes the shape and
parameter checks but is not the block the task asks for): ex4.1's main path is two 3×3 convolutions, the first
with the strides and relu; ex4.2 keeps every branch's layers, windows and strides (a max pooling for the average
one, or a stride moved to another layer, keeps the shapes and the parameter count); ex4.4 has relu after the
squeeze and the 3×3 and a linear expansion. ex4.5 is an open-ended design task, judged on shapes and
connectivity only: a residual add and a concatenate of parallel branches somewhere between the photo and the
scores. ex4.6 is a migration task (Keras 1's ``merge(mode='cos')``), judged on behaviour: with the student's own
weights, the output is the cosine of the two shared projections.
"""

from __future__ import annotations

from .._exercise_parts.ex4_design import _judge_cosine_migration, _judge_design_blocks
from .._exercise_parts.ex4_inception import _judge_inception, _probe_inception, _probe_residual
from .._exercise_parts.ex4_merges import _judge_bottleneck, _judge_merges
from .._exercise_parts.ex4_residual import _judge_residual
from .._exercises import Exercise
from .._i18n import N_

LESSON_6 = N_("lesson 6")
LESSON_6B = N_("lesson 6b")
LESSONS_6_6B = N_("lessons 6 and 6b")


EXERCISES = [
    Exercise(
        id="ex4.1", title=N_("Add a residual connection that fits"), lesson=LESSON_6, judge=_judge_residual,
        probes=(_probe_residual,),
        answer=N_("your function residual_block (the function itself, without calling it)"),
        hints=(N_("The add needs its two inputs in the same shape. Work out the main path's output shape for each of "
               "the check's cases: when does x already have it, and when not?"),
               N_("x fits as it is only when strides=1 and x has `filters` channels. Otherwise pass x through a layer "
               "of its own that changes the channels and, with strides=2, halves the height and width."),
               N_("That layer is a Conv2D with `filters` filters, kernel size 1 and the block's strides, applied to x "
               "(not to the main path); compare tuple(x.shape) with the main path's output shape to decide. "
               "Lesson 6, 'Identity or projection shortcut', shows one.")),
        outline=(("x", N_("3×3 conv, filters, strides")), (N_("3×3 conv, filters, strides"), N_("3×3 conv, filters")),
                 (N_("3×3 conv, filters"), "add"),
                 ("x", N_("shortcut: x itself if the shapes agree, else 1×1 conv (filters, strides)")),
                 (N_("shortcut: x itself if the shapes agree, else 1×1 conv (filters, strides)"), "add"))),
    Exercise(
        id="ex4.2", title=N_("Make this Inception block's branches line up"), lesson=LESSON_6, judge=_judge_inception,
        probes=(_probe_inception,),
        answer=N_("your function inception_block (the function itself, without calling it)"),
        hints=(N_("Run the check (or lab.shapes on a model around the block, branch by branch): which branch ends at "
               "which height and width?"),
               N_("A 3×3 window without padding loses a pixel on each border, so each 3×3 convolution or pooling "
               "changes the size differently. Keep the windows and strides; change how the borders are treated."),
               N_("Give every convolution and the pooling padding='same': a stride-1 layer then keeps the size, and a "
               "stride-2 layer halves it, rounded up, in every branch.")),
        outline=(("x", N_("a: 1×1 conv 16, stride 2")), (N_("a: 1×1 conv 16, stride 2"), N_("concatenate (channels)")),
                 ("x", N_("b: 1×1 conv 32")), (N_("b: 1×1 conv 32"), N_("b: 3×3 conv 32, stride 2")),
                 (N_("b: 3×3 conv 32, stride 2"), N_("concatenate (channels)")),
                 ("x", N_("c: 3×3 average pool, stride 2")),
                 (N_("c: 3×3 average pool, stride 2"), N_("c: 3×3 conv 16")),
                 (N_("c: 3×3 conv 16"), N_("concatenate (channels)")),
                 ("x", N_("d: 1×1 conv 32")), (N_("d: 1×1 conv 32"), N_("d: 3×3 conv 32")),
                 (N_("d: 3×3 conv 32"), N_("d: 3×3 conv 32, stride 2")),
                 (N_("d: 3×3 conv 32, stride 2"), N_("concatenate (channels)")),
                 (N_("concatenate (channels)"), N_("half the height and width, 96 channels")))),
    Exercise(
        id="ex4.3", title=N_("Choose the merge: concatenate or add"), lesson=LESSON_6, judge=_judge_merges,
        hints=(N_("Look at the shapes: a is (None, 8, 8, 32), b is (None, 8, 8, 16). Which merge accepts different "
               "channel counts, and which one needs equal shapes?"),
               N_("'stacked' keeps every channel of both (32 + 16). 'summed' adds values, so b needs 32 channels "
               "first: a 1×1 convolution changes the channels without touching height and width."),
               N_("layers.concatenate keeps the order of its list. For 'summed': a Conv2D with 32 filters and kernel "
               "size 1 on b, then layers.add with a. Name the two merges 'stacked' and 'summed', and give both to "
               "keras.Model as outputs.")),
        outline=(("a (None, 8, 8, 32)", "stacked: concatenate (None, 8, 8, 48)"),
                 ("b (None, 8, 8, 16)", "stacked: concatenate (None, 8, 8, 48)"),
                 ("b (None, 8, 8, 16)", N_("1×1 conv, 32 filters")),
                 (N_("1×1 conv, 32 filters"), "summed: add (None, 8, 8, 32)"),
                 ("a (None, 8, 8, 32)", "summed: add (None, 8, 8, 32)"))),
    Exercise(
        id="ex4.4", title=N_("Make a 3×3 convolution cheaper with a 1×1 bottleneck"), lesson=LESSON_6B,
        judge=_judge_bottleneck,
        hints=(N_("The cost of a 3×3 convolution grows with (channels in) × (channels out). Where in the block are "
               "there only 32 channels?"),
               N_("Squeeze first: a 1×1 convolution from 128 to 32 channels; then the 3×3 on those 32 "
                  "(padding='same'); "
               "then a 1×1 convolution back to 128."),
               N_("Then add feature_map back to the expanded map, and count: 4,128 + 9,248 + 4,224 parameters. "
               "lab.patterns.pointwise_bottleneck() in lesson 6 is the same idea at 256 channels.")),
        outline=(("feature_map (None, 8, 8, 128)", N_("1×1 conv, 32 filters, relu")),
                 (N_("1×1 conv, 32 filters, relu"), N_("3×3 conv, 32 filters, relu")),
                 (N_("3×3 conv, 32 filters, relu"), N_("1×1 conv, 128 filters")), (N_("1×1 conv, 128 filters"), "add"),
                 ("feature_map (None, 8, 8, 128)", "add"))),
    Exercise(
        id="ex4.5", title=N_("Design a photo classifier with a residual connection and parallel branches"),
        lesson=LESSONS_6_6B, judge=_judge_design_blocks,
        hints=(N_("Start from keras.Input(shape=(32, 32, 3)) and end with 10 scores per photo (pool or flatten the "
               "map before the last Dense layer). In between, the graph is yours."),
               N_("A residual connection: keep a tensor x, compute y from it with a layer or two (padding='same' "
               "keeps the shape), and add x and y. Parallel branches: call two different layers on the same "
               "tensor and concatenate the results."),
               N_("One way: a convolution, a residual block of two 3×3 convolutions around it, two branches (a 1×1 "
               "and a 3×3 convolution, both with strides 2 and padding='same') concatenated, global average "
               "pooling, Dense(10). lab.graph(model) should show the skip arrow and the two branches.")),
        outline=((N_("photo (None, 32, 32, 3)"), N_("any layers")), (N_("any layers"), "x"), ("x", N_("layers: f(x)")),
                 ("x", "add: x + f(x)"), (N_("layers: f(x)"), "add: x + f(x)"),
                 ("add: x + f(x)", N_("branch 1")), ("add: x + f(x)", N_("branch 2")),
                 (N_("branch 1"), "concatenate"), (N_("branch 2"), "concatenate"),
                 ("concatenate", N_("any layers ")), (N_("any layers "), N_("scores (None, 10)")))),
    Exercise(
        id="ex4.6", title=N_("Translate a Keras 1 merge(mode='cos') model to Keras 3"), lesson=LESSON_6,
        judge=_judge_cosine_migration,
        hints=(N_("Keep what still works: the Input layers and the shared Dense layer are the same in Keras 3 "
               "(from keras import layers). Three things changed: merge, and Model's two arguments."),
               N_("Keras 3 has one merge layer per operation; lesson 6's table says which one replaces mode='cos'. "
               "keras.Model takes inputs= and outputs=, with an s."),
               N_("layers.Dot(axes=-1, normalize=True) on the two projections computes their cosine: (None, 1).")),
        outline=(("query (None, 16)", N_("one Dense 8, tanh (called twice)")),
                 ("document (None, 16)", N_("one Dense 8, tanh (called twice)")),
                 (N_("one Dense 8, tanh (called twice)"), N_("cosine of the two projections (None, 1)")))),
]
