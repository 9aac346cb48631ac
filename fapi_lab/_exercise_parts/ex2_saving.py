"""The saving judges: ex2.3 (save and load without losing anything) and ex2.5 (migrate saving code to Keras 3)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._exercises import (
    Context,
    Problem,
    Stop,
    expect_inputs,
    explain_raised,
    need_callable,
    need_model,
    output_map,
    run_forward,
    total_params,
    weight_ids,
)
from .._i18n import N_, _, ngettext
from .ex2_models import _raised

__all__ = [
    "_judge_migration",
    "_judge_round_trip",
]


# -- ex2.3: save and load without losing anything ----------------------------------------------------------------
def _tiny_trained_model() -> tuple[Any, np.ndarray]:
    """The model the check hands to round_trip: small, compiled, trained two steps (so the optimizer has state)."""
    import keras
    from keras import layers

    features = keras.Input(shape=(8,), name="features")
    hidden = layers.Dense(4, activation="relu", name="hidden")(features)
    scores = layers.Dense(3, name="scores")(hidden)
    model = keras.Model(features, scores, name="tiny_classifier")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    rng = np.random.default_rng(23)
    x = rng.random((16, 8), dtype="float32")
    model.fit(x, rng.integers(0, 3, size=16), epochs=1, batch_size=8, verbose=0)
    return model, x


def _saving_error(exc: BaseException, folder: str, what: str = N_("Your round_trip(model, folder)")) -> str:
    """Keras 3's saving and loading errors, explained; ``what`` names the student's function (marked, not yet
    translated) for any other error."""
    text = str(exc).replace(folder + os.sep, "").replace(folder, "<folder>")
    if "Invalid filepath extension for saving" in text:
        received = text.rsplit("filepath=", 1)[-1].rstrip(". ") if "filepath=" in text else ""
        if received:
            head = _("Saving raised ValueError: Keras 3 refuses the file name {name!r}.").format(name=received)
        else:
            head = _("Saving raised ValueError: Keras 3 refuses the file name.")
        return head + " " + _("A whole model is saved to ONE file whose name ends in .keras. A name without that "
                              "extension meant a SavedModel folder in TensorFlow 2 (documents 000 and 003); Keras 3 "
                              "writes one only with model.export(), for serving, and cannot load it back as a Keras "
                              "model. Give the file a name that ends in .keras, inside the folder the function is "
                              "given.")
    if "save_format" in text:
        return _("Saving raised ValueError: the save_format argument is gone in Keras 3: the end of the file name "
                 "chooses the format now. Remove the argument and give the file a name that ends in .keras.")
    if "No model config found" in text:
        return _("Loading raised ValueError: the file holds weights only (save_weights), no architecture, so "
                 "load_model cannot rebuild a model from it. Save the whole model, architecture and weights and "
                 "compile settings together, in one .keras file, and load that.")
    if "File format not supported" in text:
        return _("Loading raised ValueError: keras.models.load_model reads .keras files (and legacy .h5 ones), not "
                 "the SavedModel folder that model.export() writes: an export is for serving and comes back only as "
                 "an inference layer. Save the whole model to a .keras file instead, and load that.")
    if "File not found" in text:
        return _("Loading raised ValueError: {message} Load the same file name that the function saved to.").format(
            message=text.splitlines()[0][:200])
    if "filename must end in `.weights.h5`" in text:
        return _("Saving raised ValueError: save_weights writes weights only, to a name ending in .weights.h5; but "
                 "weights alone lose the architecture and the training state. Save the whole model to one .keras "
                 "file.")
    return _raised(exc, _(what))


def _files(folder: str) -> list[str]:
    """Every file written under ``folder``, as a relative path with forward slashes."""
    top = Path(folder)
    return sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file())


def _judge_round_trip(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    what = N_("a function round_trip(model, folder) that returns the loaded model")
    if isinstance(answer, keras.layers.Layer):  # a model is callable too: the result of calling round_trip
        raise Stop(_("The check needs {what}; you passed a model ({kind} {name!r}). Pass the function itself, without "
                     "calling it (no parentheses): the check calls it on a model of its own.").format(
                         what=_(what), kind=type(answer).__name__, name=answer.name), code="wrong-kind:called")
    round_trip = need_callable(answer, what=what)
    model, x = _tiny_trained_model()
    before = model.predict(x, verbose=0)
    steps = int(model.optimizer.iterations.numpy())
    with tempfile.TemporaryDirectory(prefix="fapi_lab_ex2_3_") as folder:
        try:
            loaded = round_trip(model, folder)
        except Exception as exc:
            raise Stop(_saving_error(exc, folder), code="raised:saving") from None
        files = _files(folder)
    if loaded is None:
        return [Problem(_("Your round_trip returned None: it must end by returning the model that loading gave back "
                          "(a function without return gives None)."), code="returned-none")]
    if loaded is model:
        return [Problem(_("Your round_trip returned the very model it was given, not the one loaded from the file: "
                          "that proves nothing about what the file holds. Return the model that loading gives "
                          "back."), code="returned-original")]
    if not isinstance(loaded, keras.Model):
        text = repr(loaded)
        return [Problem(_("Your round_trip returned a {kind} ({value}); it should return the model loaded back from "
                          "the file (a keras.Model).").format(kind=type(loaded).__name__, value=text[:60]),
                        code="returned-wrong-kind")]
    if not files:
        return [Problem(_("Your round_trip wrote nothing inside the folder it was given: save the model into that "
                          "folder (the check gives a new, empty one each time and looks there for the file)."),
                        code="nothing-saved")]
    keras_files = [f for f in files if f.endswith(".keras")]
    if not keras_files:
        weights = [f for f in files if f.endswith(".weights.h5")]
        legacy = [f for f in files if f.endswith(".h5") and f not in weights]
        if legacy:
            return [Problem(_("Your round_trip saved {file!r}: HDF5, Keras 2's format, which Keras 3 still reads "
                              "and writes but calls legacy (model.save warns about it, and some models do not load "
                              "back from it). The native format is one .keras file: name the file so.").format(
                                  file=legacy[0]), code="saved-hdf5")]
        if weights:
            return [Problem(_("Your round_trip saved the weights only ({file!r}): no architecture, no compile "
                              "settings, no optimizer state. Rebuilding the model around them needs the code that "
                              "built it; the task asks to save the whole model, in one .keras file.").format(
                                  file=weights[0]), code="saved-weights-only")]
        listing = ", ".join(repr(f) for f in files[:4])
        return [Problem(_("Your round_trip wrote {files} but no .keras file: save the whole model to one file whose "
                          "name ends in .keras.").format(files=listing), code="no-keras-file")]
    problems = []
    if loaded.name != model.name or [la.name for la in loaded.layers] != [la.name for la in model.layers]:
        problems.append(Problem(_("The loaded model is {name!r} with layers {layers}; the model given to round_trip "
                                  "is {given!r} with {given_layers}: return the model loaded from the file you "
                                  "saved, unchanged.").format(name=loaded.name,
                                                              layers=[la.name for la in loaded.layers],
                                                              given=model.name,
                                                              given_layers=[la.name for la in model.layers]),
                                code="loaded-other-model"))
    try:
        after = loaded.predict(x, verbose=0)
    except Exception as exc:
        raise Stop(_raised(exc, _("Predicting with the loaded model")), code="raised:forward") from None
    if np.shape(after) != np.shape(before) or not np.allclose(after, before, atol=1e-6):
        problems.append(Problem(_("The loaded model's predictions differ from the original's on the same 16 "
                                  "samples: the trained weights did not survive the round trip. A whole-model .keras "
                                  "file keeps them."), code="weights-lost"))
    if getattr(loaded, "optimizer", None) is None or not getattr(loaded, "compiled", True):
        problems.append(Problem(_("The loaded model is not compiled: its loss, metrics and optimizer were lost, so "
                                  "training cannot simply continue. Saving the whole model keeps the compile "
                                  "settings; rebuilding from a config or weights does not."), code="compile-lost"))
    elif int(loaded.optimizer.iterations.numpy()) != steps:
        problems.append(Problem(_("The loaded model's optimizer starts from scratch (its step count was reset): the "
                                  "optimizer's state was not saved with the model. A whole-model .keras file keeps "
                                  "it."), code="optimizer-state-lost"))
    if problems:
        return problems
    ctx.verified += [ngettext("saved one .keras file inside the folder it was given ({n} file written)",
                              "saved one .keras file inside the folder it was given ({n} files written)",
                              len(files)).format(n=len(files)),
                     _("returned a new model, loaded from that file (not the one it was given)"),
                     _("the same model name and layer names"),
                     _("the same predictions as the trained original, on 16 samples"),
                     _("still compiled, with the optimizer's state kept: training can continue where it stopped")]
    return []


# -- ex2.5: migrate the documents' saving code to Keras 3 ------------------------------------------------------
MIGRATE_PARAMS = 32 * 10 + 10 + 10 * 10 + 10  # document 003's model: 32 -> Dense 10 relu -> Dense 10


def _migration_error(exc: BaseException, folder: str) -> str:
    text = str(exc)
    if "Unrecognized keyword arguments passed to Model" in text and ("'input'" in text or "'output'" in text):
        return (explain_raised(exc, _("Your function"), with_fix=False) + " "
                + _("Document 001 is Keras 1 code: rename the two keywords, and keep the model as it is."))
    if isinstance(exc, AttributeError) and "yaml" in text.lower():
        return _("Your function raised AttributeError: {message}. YAML is gone from Keras: TensorFlow 2.6 removed "
                 "to_yaml and model_from_yaml (loading YAML could run arbitrary code), and Keras 3 did not bring "
                 "them back. The architecture as text is JSON now, with a pair of functions named after it (lesson "
                 "3, 'The architecture only'); like document 003's YAML pair, it keeps the layers and not the "
                 "weights.").format(message=text.splitlines()[0][:120])
    if isinstance(exc, AttributeError) and "merge" in text:
        return _("Your function raised AttributeError: {message}. Keras 1's merge(mode=...) is gone: each mode is a "
                 "layer of its own now.").format(message=text.splitlines()[0][:120])
    return _saving_error(exc, folder, what=N_("Your function"))


def _architecture(model: Any) -> list[tuple[str, dict[str, Any]]]:
    """Each layer's class and settings, names left out, in order (lesson 1b's comparison)."""
    import keras

    return [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "name"})
            for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _kind(value: Any) -> str:
    if value is None:
        return _("None (a function without return gives None)")
    if isinstance(value, tuple | list):
        return _("a {kind} of {n}").format(kind=type(value).__name__, n=len(value))
    return _("a {kind}").format(kind=type(value).__name__)


def _judge_migration(answer: Any, ctx: Context) -> list[Problem]:
    import keras

    what = N_("the function save_and_restore(folder) that returns (model, fresh_model, restored)")
    if isinstance(answer, tuple | list | keras.layers.Layer):
        raise Stop(_("The check needs {what}; you passed what it returned. Pass the function itself, without calling "
                     "it (no parentheses): the check calls it with a new, empty folder of its own.").format(
                         what=_(what)), code="wrong-kind:called")
    function = need_callable(answer, what=what)
    with tempfile.TemporaryDirectory(prefix="fapi_lab_ex2_5_") as folder:
        try:
            returned = function(folder)
        except Exception as exc:
            raise Stop(_migration_error(exc, folder), code="raised:migration") from None
        files = _files(folder)
    if not isinstance(returned, tuple | list) or len(returned) != 3:
        raise Stop(_("Your function returned {kind}; it should return the three models, in this order: model, "
                     "fresh_model, restored (as the starter code's last line does).").format(kind=_kind(returned)),
                   code="returned-wrong-kind")
    named = dict(zip(("model", "fresh_model", "restored"), returned, strict=True))
    for name, value in named.items():
        if not isinstance(value, keras.Model):
            raise Stop(_("{name} is {kind}, not a keras.Model: return the three models, in this order: model, "
                         "fresh_model, restored.").format(name=name, kind=_kind(value)), code="returned-wrong-kind")
    fresh, restored = named["fresh_model"], named["restored"]
    model, graph = need_model(named["model"], ctx, what=N_("model: the document's model"))
    problems = expect_inputs(graph, [(None, 32)])
    outputs = output_map(graph)
    if problems or len(outputs) != 1 or tuple(next(iter(outputs.values()))[1]) != (None, 10) or \
            total_params(graph) != MIGRATE_PARAMS:
        return [Problem(_("model is not the document's model any more: that one takes 32 numbers, has a Dense "
                          "layer of 10 units with relu, then one of 10 units without activation ({params} "
                          "parameters). Keep the model as the starter code builds it: the task only makes the code "
                          "run in Keras 3.").format(params=MIGRATE_PARAMS), code="model-changed")]
    x = np.random.default_rng(25).random((8, 32), dtype="float32")
    trained = model.predict(x, verbose=0)
    if fresh is model:
        problems.append(Problem(_("fresh_model is model itself. Document 003's fresh_model is rebuilt from the "
                                  "architecture alone: a second model with the same layers and new weights."),
                                code="fresh-is-model"))
    elif weight_ids(fresh) & weight_ids(model):
        problems.append(Problem(_("fresh_model uses model's own layers (the same weights, as a model made from "
                                  "model's tensors would): training one would change the other. Document 003 "
                                  "rebuilds it from the architecture alone: new layers, new weights."),
                                code="fresh-shares-weights"))
    elif _architecture(fresh) != _architecture(model):
        problems.append(Problem(_("fresh_model has other layers or settings than model: rebuilt from model's "
                                  "architecture, it has exactly the same layers, in the same order."),
                                code="fresh-differs"))
    elif np.allclose(run_forward(fresh, x, what="fresh_model"), trained, atol=1e-6):
        problems.append(Problem(_("fresh_model computes exactly what the trained model computes: it has the trained "
                                  "weights, so it is the whole model again (loaded from the file, or copied). "
                                  "Document 003's fresh_model is the architecture only, with new weights: the "
                                  "architecture written as text, and a model rebuilt from that text."),
                                code="fresh-has-weights"))
    if restored is model:
        problems.append(Problem(_("restored is model itself, not a model loaded from a file: that proves nothing "
                                  "about what was saved. Return what loading the file gives back."),
                                code="restored-is-model"))
    elif not [f for f in files if f.endswith(".keras")]:
        legacy = [f for f in files if f.endswith(".h5")]
        written = ", ".join(repr(f) for f in files[:3]) or _("no file")
        if legacy:
            said = _("Your function wrote {files} in the folder it was given, but no .keras file: .h5 is Keras 2's "
                     "HDF5 format, which Keras 3 calls legacy (lesson 3).").format(files=written)
        else:
            said = _("Your function wrote {files} in the folder it was given, but no .keras file.").format(
                files=written)
        problems.append(Problem(said + " " + _("Save the whole model, inside the folder, to one file whose name ends "
                                               "in .keras, and load that."), code="no-keras-file"))
    else:
        after = run_forward(restored, x, what="restored")
        if np.shape(after) != np.shape(trained) or not np.allclose(after, trained, atol=1e-6):
            problems.append(Problem(_("restored computes something else than the trained model on the same 8 "
                                      "samples: the trained weights did not come back. Load the file the whole model "
                                      "was saved to."), code="weights-lost"))
        elif getattr(restored, "optimizer", None) is None or not getattr(restored, "compiled", False):
            problems.append(Problem(_("restored is not compiled: the compile settings and the optimizer were lost. "
                                      "Load the whole-model .keras file, which keeps them."), code="compile-lost"))
        elif int(restored.optimizer.iterations.numpy()) != int(model.optimizer.iterations.numpy()):
            problems.append(Problem(_("restored's optimizer starts again from step 0: its state was not saved with "
                                      "the model. Load the whole-model .keras file, which keeps it."),
                                    code="optimizer-state-lost"))
    if problems:
        return problems
    ctx.verified += [_("the old code runs in Keras 3 (documents 001, 003 and 000 mended)"),
                     _("model: the document's model, {params} parameters, trained").format(params=MIGRATE_PARAMS),
                     _("fresh_model: the same layers and settings, new weights of its own (the architecture only)"),
                     _("restored: loaded from the .keras file written in the folder given; the same predictions as "
                       "the trained model, still compiled, the optimizer at the same step")]
    return []
