"""Exercises for lesson 5: several inputs and outputs (the ticket model, question answering, social media).

ex3.3 judges a dict of loss weights against the per-head losses document 004 reasons with (a trained model's:
an age MSE of 3-5, a gender cross-entropy as low as 0.1), not against an untrained model's first losses: on the
synthetic posts the untrained age MSE is about 1,600, so no weights balance both moments, and document 004's
own weights (0.25, 1, 10) only balance the trained ones. The notebook gives the student the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._exercise_parts.ex3_outputs import (
    QA_INPUTS,
    QA_PARAMS,
    QA_VOCABULARY,
    _by_output,
    _call_builder,
    _check_keys,
    _head_activation,
    _judge_loss_weights,
    _judge_named_outputs,
    _judge_ticket,
    _kind_of,
    _quote,
)
from .._exercises import (
    Context,
    Exercise,
    Problem,
    Stop,
    expect_class_count,
    expect_depends,
    expect_inputs,
    expect_outputs,
    expect_params,
    explain_raised,
    inputs_reaching,
    match_inputs,
    match_outputs,
    need_functional,
    need_model,
    nodes_of,
    output_map,
    run_forward,
    unconnected_inputs,
)
from .._layergraph import LayerGraph

LESSON_5 = "lesson 5"

# -- ex3.4 ------------------------------------------------------------------------------------------------------
QA_ENCODERS = {"text": (QA_VOCABULARY, 64, 32), "question": (QA_VOCABULARY, 32, 16)}  # words, vector, LSTM units


def _shared_encoder(graph: LayerGraph) -> list[Problem]:
    """A layer with weights called on the text's path and on the question's: one encoder for both (weight
    identity, :attr:`LayerInfo.uid`), where the task gives each its own."""
    calls: dict[int, list[Any]] = {}
    for node in graph.nodes:
        if node.kind != "input" and node.layer.params > 0:
            calls.setdefault(node.layer.uid, []).append(node)
    for nodes in calls.values():
        reached = [inputs_reaching(graph, n.key) for n in nodes]
        if len(nodes) > 1 and any(r == ["text"] for r in reached) and any(r == ["question"] for r in reached):
            first = nodes[0]
            return [Problem(
                f"Your {first.class_name} {first.name!r} is called on the text and on the question: one layer, one "
                f"set of weights for both. The task gives the text and the question separate encoders, each with "
                f"its own Embedding and its own LSTM: they are different kinds of text, and the task encodes them "
                f"to different sizes (embeddings of 64 and 32 numbers per word, LSTMs of 32 and 16 units). Make "
                f"each layer twice, once for each input.", tuple(n.key for n in nodes), code="encoder-shared")]
    return []


def _embedding_sizes(graph: LayerGraph) -> list[Problem]:
    """Each Embedding's vocabulary and vector size against the task's, with a targeted message for document
    004's swap (``Embedding(256, vocabulary_size)``: the arguments in the wrong order)."""
    problems = []
    for node in nodes_of(graph, "Embedding", deep=False):
        reached = inputs_reaching(graph, node.key)
        if len(reached) != 1:
            continue
        which = reached[0]
        vocabulary, size, _ = QA_ENCODERS[which]
        config = node.layer.config
        got_in, got_out = config.get("input_dim"), config.get("output_dim")
        if got_in == size and got_out == vocabulary:
            problems.append(Problem(
                f"Embedding {node.key!r} (the {which}'s) has input_dim={got_in:,} and output_dim={got_out:,}: a "
                f"vocabulary of {got_in} words, each turned into {got_out:,} numbers. The arguments are the wrong "
                f"way round, the mistake document 004 makes in its social-media model: the first argument of "
                f"Embedding is the vocabulary size (how many different word ids it accepts, here {vocabulary:,}), "
                f"the second the size of each word's vector (here {size}).", (node.key,), code="embedding-sizes"))
        elif got_in != vocabulary:
            problems.append(Problem(
                f"Embedding {node.key!r} (the {which}'s) accepts word ids below {got_in:,}, but the task's "
                f"{which} has a vocabulary of {vocabulary:,} words: its first argument, the vocabulary size, "
                f"should be {vocabulary:,}.", (node.key,), code="embedding-vocabulary"))
    return problems


def _judge_question_answering(answer: Any, ctx: Context) -> list[Problem]:
    from .. import datasets

    model, graph = need_model(_call_builder(answer), ctx)
    problems = expect_inputs(graph, [(None, None), (None, None)], names=list(QA_INPUTS), dtypes=["int32", "int32"])
    problems += expect_outputs(graph, {"answer": (None, 500)})
    if problems:
        return problems
    problems = unconnected_inputs(graph)
    if problems:
        return problems
    problems = _shared_encoder(graph) or _embedding_sizes(graph)
    if problems:
        return problems
    answer_key = output_map(graph)["answer"][0]
    merges = [n for n in graph.nodes if n.is_merge]
    joins = [n for n in merges if n.class_name == "Concatenate"
             and all(len(inputs_reaching(graph, p)) == 1 for p in graph.predecessors(n.key))
             and {inputs_reaching(graph, p)[0] for p in graph.predecessors(n.key)} == set(QA_INPUTS)]
    if not joins:
        others = [n for n in merges if set(inputs_reaching(graph, n.key)) == set(QA_INPUTS)]
        if others and others[0].class_name != "Concatenate":
            node = others[0]
            return [Problem(
                f"Your model joins the two encodings with {node.class_name} {node.key!r}, which combines them "
                f"value by value into one vector of the same size: the text's and the question's numbers get "
                f"mixed, and both must have the same size. The task concatenates them instead: side by side, "
                f"each keeps its own numbers.", (node.key,), code="merge-by-value")]
        return [Problem(
            "The task encodes the text and the question separately, each with its own embedding and LSTM, and "
            "then concatenates the two encodings (one from the text, one from the question) before the answer "
            "layer. Your model does not have such a concatenation: lab.graph(model) shows where the paths meet.",
            tuple(n.key for n in merges) or (answer_key,), code="encodings-not-separate")]
    problems += expect_class_count(graph, "LSTM", 2, why="The text and the question each get their own LSTM.")
    activation = _head_activation(graph, answer_key)
    if activation != "softmax":
        problems.append(Problem(
            f"The answer layer {answer_key!r} has activation {activation!r}; the task asks for a softmax over the "
            f"500 possible answer words, as document 004 does (trained with categorical cross-entropy).",
            (answer_key,), code="answer-activation"))
    if problems:
        return problems
    problems += expect_params(graph, QA_PARAMS, explain=(
        "The task's sizes: for the text an embedding of 64 numbers per word and an LSTM of 32 units; for the "
        "question an embedding of 32 and an LSTM of 16; 10,000 words in each vocabulary; 500 answer words."))
    if problems:
        return problems
    x, _ = datasets.question_answering_data(n=4, seed=1)
    out = np.asarray(run_forward(model, x))
    if out.shape != (4, 500) or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        raise Stop(f"On 4 questions your model returned shape {out.shape}, not 4 probability rows of 500.",
                   code="forward-shape")
    ctx.verified += ["inputs 'text' and 'question' (word ids, int32); output 'answer' (None, 500), softmax",
                     "both inputs reach the answer: each is encoded on its own, then the two are concatenated",
                     f"{QA_PARAMS:,} parameters, as document 004's model",
                     "a forward pass on 4 questions gives 4 rows of answer probabilities that sum to 1"]
    return []


# -- ex3.5: feed a multi-output model from a tf.data.Dataset of dicts --------------------------------------------
FEED_BATCH = 32
FEED_METRICS = {"priority": ("mae", "mean_absolute_error"),
                "department": ("accuracy", "categorical_accuracy", "acc")}
FEED_METRIC_WORDS = {"priority": "the mean absolute error", "department": "the accuracy"}


def _pair(answer: Any, names: tuple[str, str], exercise_id: str) -> tuple[Any, Any]:
    if not isinstance(answer, tuple | list) or len(answer) != len(names):
        raise Stop(f"This check needs {len(names)} things together, in this order: lab.check({exercise_id!r}, "
                   f"({', '.join(names)})). Run the check cell as it is given.", code="wrong-kind:not-a-tuple")
    for name, value in zip(names, answer, strict=True):
        if value is ...:
            raise Stop(f"Replace the ... in the exercise cell with your {name}, run that cell, then run this check "
                       f"again.", answered=False, code="not-answered")
    return answer[0], answer[1]


def _structure_problems(spec: Any, wanted: tuple[str, ...], what: str, model_word: str) -> list[Problem]:
    """The inputs (or targets) part of a dataset element: a dict keyed exactly by the model's names."""
    if isinstance(spec, tuple | list):
        return [Problem(
            f"The {what} in your dataset's elements are a {type(spec).__name__} of {len(spec)}, matched to the "
            f"model's {model_word}s by position. The task asks for a dict keyed by the {model_word} names "
            f"({_quote(wanted)}): a dict cannot get the order wrong, and it is what the model's names are for.",
                        code="dataset-by-position")]
    if not isinstance(spec, Mapping):
        return [Problem(
            f"The {what} in your dataset's elements are one tensor; the model has {len(wanted)} {model_word}s "
            f"({_quote(wanted)}): give a dict with one entry per {model_word}, keyed by its name.",
                        code="dataset-one-tensor")]
    return _check_keys(spec, wanted, f"dataset's dict of {what}", kind=model_word)


def _metric_problems(history: Mapping[str, Any]) -> list[Problem]:
    problems = []
    found = {name: [k[len(name) + 1:] for k in history if k.startswith(f"{name}_") and k != f"{name}_loss"]
             for name in FEED_METRICS}
    if not any(found.values()):
        keys = ", ".join(repr(k) for k in history)
        return [Problem(
            f"One epoch of fit reports {keys}: the losses only, no metric per output. compile(metrics=...) takes "
            f"the metrics of each output, in a dict keyed by the output names, like the losses: the task asks for "
            f"{FEED_METRIC_WORDS['priority']} of 'priority' and {FEED_METRIC_WORDS['department']} of "
            f"'department'.", code="metrics-missing")]
    swapped = (any(m in FEED_METRICS["department"] for m in found["priority"])
               and any(m in FEED_METRICS["priority"] for m in found["department"]))
    if swapped:
        return [Problem(
            f"One epoch of fit reports 'priority_{found['priority'][0]}' and 'department_{found['department'][0]}': "
            f"each output got the other's metric. A list of metrics is matched to the outputs by position, "
            f"silently; a dict keyed by output name cannot get them crossed.", code="metrics-swapped")]
    for name, accepted in FEED_METRICS.items():
        if not any(m in accepted for m in found[name]):
            have = ", ".join(repr(f"{name}_{m}") for m in found[name]) or "its loss only"
            problems.append(Problem(
                f"For {name!r}, fit reports {have}; the task asks for {FEED_METRIC_WORDS[name]} of {name!r} "
                f"(reported as '{name}_{accepted[0]}').", code="metric-wrong"))
    return problems


def _judge_feed_dataset(answer: Any, ctx: Context) -> list[Problem]:
    import keras
    import tensorflow as tf

    model, dataset = _pair(answer, ("feed_model", "ticket_ds"), "ex3.5")
    model, graph = need_model(model, ctx)
    if not isinstance(dataset, tf.data.Dataset):
        kind = "a dict of arrays" if isinstance(dataset, Mapping) else _kind_of(dataset)
        raise Stop(f"ticket_ds is {kind}, not a tf.data.Dataset: the task feeds fit from a dataset that yields "
                   f"batches (lesson 5, 'Training: data by name'). Make one from the arrays x and y.",
                   code="wrong-kind:not-a-dataset")
    if not getattr(model, "compiled", False) or model.get_compile_config() is None:
        raise Stop(f"{model.name!r} is not compiled yet: compile it with the losses of the starter code and the "
                   f"metrics the task asks for, then check again.", answered=False, code="not-answered:not-compiled")
    inputs, outputs = tuple(graph.inputs), tuple(output_map(graph))
    spec = dataset.element_spec
    if isinstance(spec, Mapping) or not isinstance(spec, tuple) or len(spec) != 2:
        listing = f"a dict of {', '.join(map(repr, spec))}" if isinstance(spec, Mapping) else \
            (f"a tuple of {len(spec)}" if isinstance(spec, tuple) else "one tensor")
        return [Problem(f"Each element of your dataset is {listing}; fit needs each element to be a pair (inputs, "
                        f"targets): a dict of the inputs and a dict of the targets. Make the dataset from both "
                        f"together, x and y.", code="dataset-not-pairs")]
    problems = _structure_problems(spec[0], inputs, "inputs", "input")
    problems += _structure_problems(spec[1], outputs, "targets", "output")
    if problems:
        return problems
    for name in inputs:
        want = graph.node(name).output_shapes[0]
        got = spec[0][name]
        if len(got.shape) == len(want) - 1:
            return [Problem(f"Your dataset's elements are single tickets ('{name}' has shape "
                            f"{tuple(got.shape)} in each element, the shape of one sample): fit would read each "
                            f"as a batch. Batch the dataset: {FEED_BATCH} tickets per element.",
                            code="dataset-not-batched")]
        want_dtype = graph.node(name).output_dtypes[0] if graph.node(name).output_dtypes else "float32"
        if want_dtype.startswith("int") and not got.dtype.is_integer:
            problems.append(Problem(
                f"Your dataset gives '{name}' as {got.dtype.name}, but the model's input '{name}' takes word ids "
                f"as {want_dtype}. Keras would quietly cast the floats back; keep ids whole numbers from the "
                f"start (the documents' float32 ids are one of their mistakes).", (name,), code="dataset-dtype"))
    if problems:
        return problems
    first = next(iter(dataset.take(1)))
    size = int(tf.shape(first[0][inputs[0]])[0])
    if size != FEED_BATCH:
        return [Problem(f"The first batch of your dataset holds {size} tickets; the task asks for batches of "
                        f"{FEED_BATCH}.", code="batch-size")]
    try:
        copy = keras.models.clone_model(model)
        copy.compile_from_config(model.get_compile_config())
        history = copy.fit(dataset, epochs=1, verbose=0, shuffle=False).history
    except Exception as exc:
        raise Stop(explain_raised(exc, "One epoch of fit on your dataset (with a copy of your model)"),
                   code="raised:fit") from None
    problems = _metric_problems(history)
    if problems:
        return problems
    reported = ", ".join(repr(k) for k in history if k != "loss" and not k.endswith("_loss"))
    ctx.verified += [f"each element is a pair: a dict of inputs keyed {_quote(inputs)} and a dict of targets "
                     f"keyed {_quote(outputs)}",
                     f"in batches of {FEED_BATCH}; word ids stay whole numbers",
                     "fit runs one epoch on your dataset (with a copy of your model)",
                     f"the history reports {reported} besides the losses: one metric per output"]
    return []


# -- ex3.6: design a model for an image and its caption ---------------------------------------------------------
DESIGN_INPUTS = {"image": (None, 32, 32, 3), "caption": (None, None)}
DESIGN_OUTPUTS = {"label": (None, 10), "score": (None, 1)}
DESIGN_VOCABULARY = 5_000


def _judge_image_caption(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(_call_builder(answer), ctx, why="The design task practises the functional API.")
    found, problems = match_inputs(graph, DESIGN_INPUTS, dtypes={"image": "float", "caption": "int"})
    outputs, more = match_outputs(graph, DESIGN_OUTPUTS)
    problems += more
    if problems:
        return problems
    for word in DESIGN_OUTPUTS:
        problems += expect_depends(graph, outputs[word], [found["image"], found["caption"]],
                                   why=f"The task's {word} is about the image and its caption together.")
    if problems:
        return problems
    rng = np.random.default_rng(36)
    length = graph.node(found["caption"]).output_shapes[0][1] or 12
    data = {found["image"]: rng.random((3, 32, 32, 3), dtype="float32"),
            found["caption"]: rng.integers(0, DESIGN_VOCABULARY, size=(3, length)).astype(
                graph.node(found["caption"]).output_dtypes[0])}
    data[found["caption"]][:, 0] = DESIGN_VOCABULARY - 1  # the largest word id the task allows
    small = [n for n in nodes_of(graph, "Embedding") if (n.layer.config.get("input_dim") or 0) < DESIGN_VOCABULARY]
    if small:
        node = small[0]
        return [Problem(f"Embedding {node.key!r} accepts word ids below {node.layer.config['input_dim']:,}, but the "
                        f"captions use a vocabulary of {DESIGN_VOCABULARY:,} words: its first argument, the "
                        f"vocabulary size, must be at least {DESIGN_VOCABULARY:,}.", (node.key,),
                        code="embedding-vocabulary")]
    predictions = _by_output(run_forward(model, data), graph)
    got = {word: tuple(np.shape(predictions.get(outputs[word]))) for word in DESIGN_OUTPUTS}
    if got != {"label": (3, 10), "score": (3, 1)}:
        raise Stop(f"On 3 images with captions your model returned {got}, not label (3, 10) and score (3, 1).",
                   code="forward-shape")
    ctx.verified += [f"inputs {found['image']!r} (None, 32, 32, 3) and {found['caption']!r} (word ids, "
                     f"{graph.node(found['caption']).output_dtypes[0]}, any length)",
                     f"outputs {outputs['label']!r} (None, 10) and {outputs['score']!r} (None, 1)",
                     "each output is computed from the image and from the caption",
                     "a forward pass on 3 images with captions (word ids up to 4,999) gives both outputs",
                     f"{sum(1 for n in graph.nodes if n.kind != 'input')} layer calls of your choice in between"]
    return []


EXERCISES = [
    Exercise(
        id="ex3.1", title="Build the ticket model's department head", lesson=LESSON_5, judge=_judge_ticket,
        hints=("A model can have several outputs: the department head is one more layer called on the same "
               "features as the priority head, and the model lists both heads as its outputs.",
               "Keras names each output after the layer that makes it: give the new layer the name 'department', "
               "and 4 units (one score per department), without activation (logits).",
               "keras.Model(inputs=[...the three inputs...], outputs=[priority, department], name=...); then "
               "lab.graph(model) should show one concatenation feeding two heads."),
        outline=(("title (None, None) int32", "title: Embedding 64 + LSTM 128"),
                 ("body (None, None) int32", "body: Embedding 64 + LSTM 32"),
                 ("title: Embedding 64 + LSTM 128", "features: concatenate"),
                 ("body: Embedding 64 + LSTM 32", "features: concatenate"),
                 ("tags (None, 12)", "features: concatenate"),
                 ("features: concatenate", "priority: Dense 1 (logits)"),
                 ("features: concatenate", "department: Dense 4 (logits)"))),
    Exercise(
        id="ex3.2", title="Name the outputs so a dict of losses works", lesson=LESSON_5, judge=_judge_named_outputs,
        answer="the compiled model (outputs named, then model.compile(...))",
        hints=("Run the compile with a dict of losses as it is: the error lists the names the model's outputs "
               "have now (model.output_names). Those names come from the layers that make the outputs.",
               "Give the two output layers name='priority' and name='department', rebuild the model, and compile "
               "with dicts keyed by those names: one loss per output, and loss_weights priority 1.0, department "
               "0.2.",
               "The heads give logits: priority is a score in [0, 1] (binary cross-entropy), department one of 4 "
               "(categorical cross-entropy, the targets are one-hot); both losses need from_logits=True."),
        outline=(("title, body, tags", "features: concatenate"),
                 ("features: concatenate", "output named 'priority' (None, 1)"),
                 ("features: concatenate", "output named 'department' (None, 4)"))),
    Exercise(
        id="ex3.3", title="Give the social-media heads weights that balance them", lesson=LESSON_5,
        judge=_judge_loss_weights, answer="a dict of loss weights, e.g. {'age': ..., 'income': ..., 'gender': ...}",
        hints=("Keras adds the heads' losses into one total: total = Σ weight × loss. A head whose weighted loss "
               "is much larger than the others' gets almost all of the training's attention.",
               "Use the typical late losses of the task: multiply each by its weight. Choose the weights so that "
               "the three products come out about the same (a weight about 1 / loss does it).",
               "The keys are the output names 'age', 'income' and 'gender' (model.output_names); the weights are "
               "positive numbers. Document 004 found weights for the same three heads: lesson 5 shows them.")),
    Exercise(
        id="ex3.4", title="Question answering: two inputs, one answer", lesson=LESSON_5,
        judge=_judge_question_answering, answer="a function with no arguments that builds and returns the model",
        hints=("Two keras.Input tensors of word ids (shape (None,), dtype 'int32'), named 'text' and 'question'; "
               "each gets its own Embedding and its own LSTM.",
               "The two encodings have different sizes (32 and 16), so they cannot be added: put them side by side "
               "with layers.concatenate([...]) and feed that to the answer layer.",
               "The answer layer is Dense(500, activation='softmax', name='answer'); the model is "
               "keras.Model([text, question], answer, name=...), returned by your function."),
        outline=(("text (None, None) int32", "Embedding 64 + LSTM 32"),
                 ("question (None, None) int32", "Embedding 32 + LSTM 16"),
                 ("Embedding 64 + LSTM 32", "concatenate"), ("Embedding 32 + LSTM 16", "concatenate"),
                 ("concatenate", "answer: Dense 500, softmax"))),
    Exercise(
        id="ex3.5", title="Feed the ticket model from a Dataset of dicts, with a metric per output",
        lesson=LESSON_5, judge=_judge_feed_dataset,
        answer="the compiled model and the dataset: (feed_model, ticket_ds)",
        hints=("x and y are dicts keyed by input and output name. A tf.data.Dataset made from the pair (x, y) "
               "yields pairs of dicts with the same keys: exactly what fit wants.",
               "tf.data.Dataset.from_tensor_slices((x, y)) slices every array along its first axis; then shuffle "
               "and batch it (32 tickets per batch).",
               "compile(..., metrics={'priority': ['mae'], 'department': ['accuracy']}): one list of metrics per "
               "output, keyed by output name, like the losses.")),
    Exercise(
        id="ex3.6", title="Design a model for an image and its caption", lesson=LESSON_5,
        judge=_judge_image_caption, answer="your model (or a function with no arguments that returns it)",
        hints=("Two keras.Input: the image (32, 32, 3) and the caption, word ids of any length (shape (None,), "
               "dtype 'int32'). Each gets its own branch that turns it into a vector.",
               "Both outputs must see both inputs: merge the two vectors (a concatenation keeps both), then put the "
               "two heads on the merged vector.",
               "For example: the image through a convolution and global pooling; the caption through an Embedding "
               "of 5,000 words and an LSTM or global pooling; concatenate; Dense(10, name='label') and "
               "Dense(1, name='score') on top."),
        outline=(("image (None, 32, 32, 3)", "image branch: any layers"),
                 ("caption (None, None) int32", "caption branch: any layers"),
                 ("image branch: any layers", "merge"), ("caption branch: any layers", "merge"),
                 ("merge", "label (None, 10)"), ("merge", "score (None, 1)"))),
]
