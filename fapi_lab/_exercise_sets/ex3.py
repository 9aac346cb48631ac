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
from .._i18n import N_, _
from .._layergraph import LayerGraph

LESSON_5 = N_("lesson 5")

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
                _("Your {kind} {name!r} is called on the text and on the question: one layer, one set of weights for "
                  "both. The task gives the text and the question separate encoders, each with its own Embedding and "
                  "its own LSTM: they are different kinds of text, and the task encodes them to different sizes "
                  "(embeddings of 64 and 32 numbers per word, LSTMs of 32 and 16 units). Make each layer twice, once "
                  "for each input.").format(kind=first.class_name, name=first.name), tuple(n.key for n in nodes),
                code="encoder-shared")]
    return []


_EMBEDDING_SWAPPED = {  # by the input the Embedding reads: "text" or "question"
    "text": N_("Embedding {key!r} (the text's) has input_dim={got_in:,} and output_dim={got_out:,}: a vocabulary of "
               "{got_in} words, each turned into {got_out:,} numbers. The arguments are the wrong way round, the "
               "mistake document 004 makes in its social-media model: the first argument of Embedding is the "
               "vocabulary size (how many different word ids it accepts, here {vocabulary:,}), the second the size "
               "of each word's vector (here {size})."),
    "question": N_("Embedding {key!r} (the question's) has input_dim={got_in:,} and output_dim={got_out:,}: a "
                   "vocabulary of {got_in} words, each turned into {got_out:,} numbers. The arguments are the wrong "
                   "way round, the mistake document 004 makes in its social-media model: the first argument of "
                   "Embedding is the vocabulary size (how many different word ids it accepts, here {vocabulary:,}), "
                   "the second the size of each word's vector (here {size})."),
}
_EMBEDDING_VOCABULARY = {
    "text": N_("Embedding {key!r} (the text's) accepts word ids below {got_in:,}, but the task's text has a "
               "vocabulary of {vocabulary:,} words: its first argument, the vocabulary size, should be "
               "{vocabulary:,}."),
    "question": N_("Embedding {key!r} (the question's) accepts word ids below {got_in:,}, but the task's question "
                   "has a vocabulary of {vocabulary:,} words: its first argument, the vocabulary size, should be "
                   "{vocabulary:,}."),
}


def _embedding_sizes(graph: LayerGraph) -> list[Problem]:
    """Each Embedding's vocabulary and vector size against the task's, with a targeted message for document
    004's swap (``Embedding(256, vocabulary_size)``: the arguments in the wrong order)."""
    problems = []
    for node in nodes_of(graph, "Embedding", deep=False):
        reached = inputs_reaching(graph, node.key)
        if len(reached) != 1:
            continue
        which = reached[0]
        vocabulary, size, _units = QA_ENCODERS[which]
        config = node.layer.config
        got_in, got_out = config.get("input_dim"), config.get("output_dim")
        if got_in == size and got_out == vocabulary:
            problems.append(Problem(
                _(_EMBEDDING_SWAPPED[which]).format(key=node.key, got_in=got_in, got_out=got_out,
                                                    vocabulary=vocabulary, size=size),
                (node.key,), code="embedding-sizes"))
        elif got_in != vocabulary:
            problems.append(Problem(
                _(_EMBEDDING_VOCABULARY[which]).format(key=node.key, got_in=got_in, vocabulary=vocabulary),
                (node.key,), code="embedding-vocabulary"))
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
                _("Your model joins the two encodings with {kind} {key!r}, which combines them value by value into "
                  "one vector of the same size: the text's and the question's numbers get mixed, and both must have "
                  "the same size. The task concatenates them instead: side by side, each keeps its own "
                  "numbers.").format(kind=node.class_name, key=node.key), (node.key,), code="merge-by-value")]
        return [Problem(
            _("The task encodes the text and the question separately, each with its own embedding and LSTM, and "
              "then concatenates the two encodings (one from the text, one from the question) before the answer "
              "layer. Your model does not have such a concatenation: lab.graph(model) shows where the paths meet."),
            tuple(n.key for n in merges) or (answer_key,), code="encodings-not-separate")]
    problems += expect_class_count(graph, "LSTM", 2, why=N_("The text and the question each get their own LSTM."))
    activation = _head_activation(graph, answer_key)
    if activation != "softmax":
        problems.append(Problem(
            _("The answer layer {key!r} has activation {activation!r}; the task asks for a softmax over the 500 "
              "possible answer words, as document 004 does (trained with categorical cross-entropy).").format(
                  key=answer_key, activation=activation),
            (answer_key,), code="answer-activation"))
    if problems:
        return problems
    problems += expect_params(graph, QA_PARAMS, explain=N_(
        "The task's sizes: for the text an embedding of 64 numbers per word and an LSTM of 32 units; for the "
        "question an embedding of 32 and an LSTM of 16; 10,000 words in each vocabulary; 500 answer words."))
    if problems:
        return problems
    x, _y = datasets.question_answering_data(n=4, seed=1)
    out = np.asarray(run_forward(model, x))
    if out.shape != (4, 500) or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        raise Stop(_("On 4 questions your model returned shape {shape}, not 4 probability rows of 500.").format(
            shape=out.shape), code="forward-shape")
    ctx.verified += [_("inputs 'text' and 'question' (word ids, int32); output 'answer' (None, 500), softmax"),
                     _("both inputs reach the answer: each is encoded on its own, then the two are concatenated"),
                     _("{params:,} parameters, as document 004's model").format(params=QA_PARAMS),
                     _("a forward pass on 4 questions gives 4 rows of answer probabilities that sum to 1")]
    return []


# -- ex3.5: feed a multi-output model from a tf.data.Dataset of dicts --------------------------------------------
FEED_BATCH = 32
FEED_METRICS = {"priority": ("mae", "mean_absolute_error"),
                "department": ("accuracy", "categorical_accuracy", "acc")}
FEED_METRIC_WORDS = {"priority": N_("the mean absolute error"), "department": N_("the accuracy")}


def _pair(answer: Any, names: tuple[str, str], exercise_id: str) -> tuple[Any, Any]:
    if not isinstance(answer, tuple | list) or len(answer) != len(names):
        raise Stop(_("This check needs {n} things together, in this order: lab.check({id!r}, ({together})). Run the "
                     "check cell as it is given.").format(n=len(names), id=exercise_id, together=", ".join(names)),
                   code="wrong-kind:not-a-tuple")
    for name, value in zip(names, answer, strict=True):
        if value is ...:
            raise Stop(_("Replace the ... in the exercise cell with your {name}, run that cell, then run this check "
                         "again.").format(name=name), answered=False, code="not-answered")
    return answer[0], answer[1]


_BY_POSITION = {  # by model_word: the inputs part, or the targets part, of a dataset element
    "input": N_("The inputs in your dataset's elements are a {kind} of {n}, matched to the model's inputs by "
                "position. The task asks for a dict keyed by the input names ({names}): a dict cannot get the order "
                "wrong, and it is what the model's names are for."),
    "output": N_("The targets in your dataset's elements are a {kind} of {n}, matched to the model's outputs by "
                 "position. The task asks for a dict keyed by the output names ({names}): a dict cannot get the "
                 "order wrong, and it is what the model's names are for."),
}
_ONE_TENSOR = {
    "input": N_("The inputs in your dataset's elements are one tensor; the model has {n} inputs ({names}): give a "
                "dict with one entry per input, keyed by its name."),
    "output": N_("The targets in your dataset's elements are one tensor; the model has {n} outputs ({names}): give "
                 "a dict with one entry per output, keyed by its name."),
}
_DICT_OF = {"input": N_("dataset's dict of inputs"), "output": N_("dataset's dict of targets")}


def _structure_problems(spec: Any, wanted: tuple[str, ...], model_word: str) -> list[Problem]:
    """The inputs (``model_word`` "input") or targets ("output") part of a dataset element: a dict keyed exactly
    by the model's names."""
    if isinstance(spec, tuple | list):
        return [Problem(_(_BY_POSITION[model_word]).format(kind=type(spec).__name__, n=len(spec),
                                                           names=_quote(wanted)), code="dataset-by-position")]
    if not isinstance(spec, Mapping):
        return [Problem(_(_ONE_TENSOR[model_word]).format(n=len(wanted), names=_quote(wanted)),
                        code="dataset-one-tensor")]
    return _check_keys(spec, wanted, _DICT_OF[model_word], kind=model_word)


def _metric_problems(history: Mapping[str, Any]) -> list[Problem]:
    problems = []
    found = {name: [k[len(name) + 1:] for k in history if k.startswith(f"{name}_") and k != f"{name}_loss"]
             for name in FEED_METRICS}
    if not any(found.values()):
        keys = ", ".join(repr(k) for k in history)
        return [Problem(
            _("One epoch of fit reports {keys}: the losses only, no metric per output. compile(metrics=...) takes the "
              "metrics of each output, in a dict keyed by the output names, like the losses: the task asks for the "
              "mean absolute error of 'priority' and the accuracy of 'department'.").format(keys=keys),
            code="metrics-missing")]
    swapped = (any(m in FEED_METRICS["department"] for m in found["priority"])
               and any(m in FEED_METRICS["priority"] for m in found["department"]))
    if swapped:
        return [Problem(
            _("One epoch of fit reports {priority} and {department}: each output got the other's metric. A list of "
              "metrics is matched to the outputs by position, silently; a dict keyed by output name cannot get them "
              "crossed.").format(priority=f"'priority_{found['priority'][0]}'",
                                 department=f"'department_{found['department'][0]}'"), code="metrics-swapped")]
    for name, accepted in FEED_METRICS.items():
        if not any(m in accepted for m in found[name]):
            have = ", ".join(repr(f"{name}_{m}") for m in found[name]) or _("its loss only")
            problems.append(Problem(
                _("For {name!r}, fit reports {have}; the task asks for {metric} of {name!r} (reported as "
                  "{reported}).").format(name=name, have=have, metric=_(FEED_METRIC_WORDS[name]),
                                         reported=f"'{name}_{accepted[0]}'"), code="metric-wrong"))
    return problems


def _judge_feed_dataset(answer: Any, ctx: Context) -> list[Problem]:
    import keras
    import tensorflow as tf

    model, dataset = _pair(answer, ("feed_model", "ticket_ds"), "ex3.5")
    model, graph = need_model(model, ctx)
    if not isinstance(dataset, tf.data.Dataset):
        kind = _("a dict of arrays") if isinstance(dataset, Mapping) else _kind_of(dataset)
        raise Stop(_("ticket_ds is {kind}, not a tf.data.Dataset: the task feeds fit from a dataset that yields "
                     "batches (lesson 5, 'Training: data by name'). Make one from the arrays x and y.").format(
                         kind=kind), code="wrong-kind:not-a-dataset")
    if not getattr(model, "compiled", False) or model.get_compile_config() is None:
        raise Stop(_("{name!r} is not compiled yet: compile it with the losses of the starter code and the metrics "
                     "the task asks for, then check again.").format(name=model.name), answered=False,
                   code="not-answered:not-compiled")
    inputs, outputs = tuple(graph.inputs), tuple(output_map(graph))
    spec = dataset.element_spec
    if isinstance(spec, Mapping) or not isinstance(spec, tuple) or len(spec) != 2:
        if isinstance(spec, Mapping):
            listing = _("a dict of {keys}").format(keys=", ".join(map(repr, spec)))
        else:
            listing = _("a tuple of {n}").format(n=len(spec)) if isinstance(spec, tuple) else _("one tensor")
        return [Problem(_("Each element of your dataset is {listing}; fit needs each element to be a pair (inputs, "
                          "targets): a dict of the inputs and a dict of the targets. Make the dataset from both "
                          "together, x and y.").format(listing=listing), code="dataset-not-pairs")]
    problems = _structure_problems(spec[0], inputs, "input")
    problems += _structure_problems(spec[1], outputs, "output")
    if problems:
        return problems
    for name in inputs:
        want = graph.node(name).output_shapes[0]
        got = spec[0][name]
        if len(got.shape) == len(want) - 1:
            return [Problem(_("Your dataset's elements are single tickets ({name} has shape {shape} in each element, "
                              "the shape of one sample): fit would read each as a batch. Batch the dataset: {batch} "
                              "tickets per element.").format(name=f"'{name}'", shape=tuple(got.shape),
                                                              batch=FEED_BATCH), code="dataset-not-batched")]
        want_dtype = graph.node(name).output_dtypes[0] if graph.node(name).output_dtypes else "float32"
        if want_dtype.startswith("int") and not got.dtype.is_integer:
            problems.append(Problem(
                _("Your dataset gives {name} as {dtype}, but the model's input {name} takes word ids as {want}. Keras "
                  "would quietly cast the floats back; keep ids whole numbers from the start (the documents' float32 "
                  "ids are one of their mistakes).").format(name=f"'{name}'", dtype=got.dtype.name, want=want_dtype),
                (name,), code="dataset-dtype"))
    if problems:
        return problems
    first = next(iter(dataset.take(1)))
    size = int(tf.shape(first[0][inputs[0]])[0])
    if size != FEED_BATCH:
        return [Problem(_("The first batch of your dataset holds {n} tickets; the task asks for batches of "
                          "{batch}.").format(n=size, batch=FEED_BATCH), code="batch-size")]
    try:
        copy = keras.models.clone_model(model)
        copy.compile_from_config(model.get_compile_config())
        history = copy.fit(dataset, epochs=1, verbose=0, shuffle=False).history
    except Exception as exc:
        raise Stop(explain_raised(exc, _("One epoch of fit on your dataset (with a copy of your model)")),
                   code="raised:fit") from None
    problems = _metric_problems(history)
    if problems:
        return problems
    reported = ", ".join(repr(k) for k in history if k != "loss" and not k.endswith("_loss"))
    ctx.verified += [_("each element is a pair: a dict of inputs keyed {inputs} and a dict of targets keyed "
                       "{outputs}").format(inputs=_quote(inputs), outputs=_quote(outputs)),
                     _("in batches of {batch}; word ids stay whole numbers").format(batch=FEED_BATCH),
                     _("fit runs one epoch on your dataset (with a copy of your model)"),
                     _("the history reports {reported} besides the losses: one metric per output").format(
                         reported=reported)]
    return []


# -- ex3.6: design a model for an image and its caption ---------------------------------------------------------
DESIGN_INPUTS = {"image": (None, 32, 32, 3), "caption": (None, None)}
DESIGN_OUTPUTS = {"label": (None, 10), "score": (None, 1)}
DESIGN_VOCABULARY = 5_000


def _judge_image_caption(answer: Any, ctx: Context) -> list[Problem]:
    model, graph = need_functional(_call_builder(answer), ctx, why=N_("The design task practises the functional API."))
    found, problems = match_inputs(graph, DESIGN_INPUTS, dtypes={"image": "float", "caption": "int"})
    outputs, more = match_outputs(graph, DESIGN_OUTPUTS)
    problems += more
    if problems:
        return problems
    for word in DESIGN_OUTPUTS:
        problems += expect_depends(graph, outputs[word], [found["image"], found["caption"]],
                                   why=_("The task's {word} is about the image and its caption together.").format(
                                       word=word))
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
        return [Problem(_("Embedding {key!r} accepts word ids below {got:,}, but the captions use a vocabulary of "
                          "{vocabulary:,} words: its first argument, the vocabulary size, must be at least "
                          "{vocabulary:,}.").format(key=node.key, got=node.layer.config["input_dim"],
                                                    vocabulary=DESIGN_VOCABULARY), (node.key,),
                        code="embedding-vocabulary")]
    predictions = _by_output(run_forward(model, data), graph)
    got = {word: tuple(np.shape(predictions.get(outputs[word]))) for word in DESIGN_OUTPUTS}
    if got != {"label": (3, 10), "score": (3, 1)}:
        raise Stop(_("On 3 images with captions your model returned {got}, not label (3, 10) and score (3, 1).")
                   .format(got=got), code="forward-shape")
    calls = sum(1 for n in graph.nodes if n.kind != "input")
    ctx.verified += [_("inputs {image!r} (None, 32, 32, 3) and {caption!r} (word ids, {dtype}, any length)").format(
                         image=found["image"], caption=found["caption"],
                         dtype=graph.node(found["caption"]).output_dtypes[0]),
                     _("outputs {label!r} (None, 10) and {score!r} (None, 1)").format(label=outputs["label"],
                                                                                     score=outputs["score"]),
                     _("each output is computed from the image and from the caption"),
                     _("a forward pass on 3 images with captions (word ids up to 4,999) gives both outputs"),
                     _("{n} layer calls of your choice in between").format(n=calls)]
    return []


EXERCISES = [
    Exercise(
        id="ex3.1", title=N_("Build the ticket model's department head"), lesson=LESSON_5, judge=_judge_ticket,
        hints=(N_("A model can have several outputs: the department head is one more layer called on the same "
               "features as the priority head, and the model lists both heads as its outputs."),
               N_("Keras names each output after the layer that makes it: give the new layer the name 'department', "
               "and 4 units (one score per department), without activation (logits)."),
               N_("keras.Model(inputs=[...the three inputs...], outputs=[priority, department], name=...); then "
               "lab.graph(model) should show one concatenation feeding two heads.")),
        outline=(("title (None, None) int32", "title: Embedding 64 + LSTM 128"),
                 ("body (None, None) int32", "body: Embedding 64 + LSTM 32"),
                 ("title: Embedding 64 + LSTM 128", "features: concatenate"),
                 ("body: Embedding 64 + LSTM 32", "features: concatenate"),
                 ("tags (None, 12)", "features: concatenate"),
                 ("features: concatenate", "priority: Dense 1 (logits)"),
                 ("features: concatenate", "department: Dense 4 (logits)"))),
    Exercise(
        id="ex3.2", title=N_("Name the outputs so a dict of losses works"), lesson=LESSON_5, judge=_judge_named_outputs,
        answer=N_("the compiled model (outputs named, then model.compile(...))"),
        hints=(N_("Run the compile with a dict of losses as it is: the error lists the names the model's outputs "
               "have now (model.output_names). Those names come from the layers that make the outputs."),
               N_("Give the two output layers name='priority' and name='department', rebuild the model, and compile "
               "with dicts keyed by those names: one loss per output, and loss_weights priority 1.0, department "
               "0.2."),
               N_("The heads give logits: priority is a score in [0, 1] (binary cross-entropy), department one of 4 "
               "(categorical cross-entropy, the targets are one-hot); both losses need from_logits=True.")),
        outline=(("title, body, tags", "features: concatenate"),
                 ("features: concatenate", N_("output named 'priority' (None, 1)")),
                 ("features: concatenate", N_("output named 'department' (None, 4)")))),
    Exercise(
        id="ex3.3", title=N_("Give the social-media heads weights that balance them"), lesson=LESSON_5,
        judge=_judge_loss_weights, answer=N_("a dict of loss weights, e.g. {'age': ..., 'income': ..., 'gender': ...}"),
        hints=(N_("Keras adds the heads' losses into one total: total = Σ weight × loss. A head whose weighted loss "
               "is much larger than the others' gets almost all of the training's attention."),
               N_("Use the typical late losses of the task: multiply each by its weight. Choose the weights so that "
               "the three products come out about the same (a weight about 1 / loss does it)."),
               N_("The keys are the output names 'age', 'income' and 'gender' (model.output_names); the weights are "
               "positive numbers. Document 004 found weights for the same three heads: lesson 5 shows them."))),
    Exercise(
        id="ex3.4", title=N_("Question answering: two inputs, one answer"), lesson=LESSON_5,
        judge=_judge_question_answering, answer=N_("a function with no arguments that builds and returns the model"),
        hints=(N_("Two keras.Input tensors of word ids (shape (None,), dtype 'int32'), named 'text' and 'question'; "
               "each gets its own Embedding and its own LSTM."),
               N_("The two encodings have different sizes (32 and 16), so they cannot be added: put them side by side "
               "with layers.concatenate([...]) and feed that to the answer layer."),
               N_("The answer layer is Dense(500, activation='softmax', name='answer'); the model is "
               "keras.Model([text, question], answer, name=...), returned by your function.")),
        outline=(("text (None, None) int32", "Embedding 64 + LSTM 32"),
                 ("question (None, None) int32", "Embedding 32 + LSTM 16"),
                 ("Embedding 64 + LSTM 32", "concatenate"), ("Embedding 32 + LSTM 16", "concatenate"),
                 ("concatenate", "answer: Dense 500, softmax"))),
    Exercise(
        id="ex3.5", title=N_("Feed the ticket model from a Dataset of dicts, with a metric per output"),
        lesson=LESSON_5, judge=_judge_feed_dataset,
        answer=N_("the compiled model and the dataset: (feed_model, ticket_ds)"),
        hints=(N_("x and y are dicts keyed by input and output name. A tf.data.Dataset made from the pair (x, y) "
               "yields pairs of dicts with the same keys: exactly what fit wants."),
               N_("tf.data.Dataset.from_tensor_slices((x, y)) slices every array along its first axis; then shuffle "
               "and batch it (32 tickets per batch)."),
               N_("compile(..., metrics={'priority': ['mae'], 'department': ['accuracy']}): one list of metrics per "
               "output, keyed by output name, like the losses."))),
    Exercise(
        id="ex3.6", title=N_("Design a model for an image and its caption"), lesson=LESSON_5,
        judge=_judge_image_caption, answer=N_("your model (or a function with no arguments that returns it)"),
        hints=(N_("Two keras.Input: the image (32, 32, 3) and the caption, word ids of any length (shape (None,), "
               "dtype 'int32'). Each gets its own branch that turns it into a vector."),
               N_("Both outputs must see both inputs: merge the two vectors (a concatenation keeps both), then put the "
               "two heads on the merged vector."),
               N_("For example: the image through a convolution and global pooling; the caption through an Embedding "
               "of 5,000 words and an LSTM or global pooling; concatenate; Dense(10, name='label') and "
               "Dense(1, name='score') on top.")),
        outline=((N_("image (None, 32, 32, 3)"), N_("image branch: any layers")),
                 (N_("caption (None, None) int32"), N_("caption branch: any layers")),
                 (N_("image branch: any layers"), N_("merge")), (N_("caption branch: any layers"), N_("merge")),
                 (N_("merge"), "label (None, 10)"), (N_("merge"), "score (None, 1)"))),
]
