"""The source documents' models, one builder per model, written for Keras 3.

Every builder returns a freshly built ``keras.Model`` (or a tuple of models whose *last* item is the main
one) with the documents' layer sizes. Every layer, input and model has an explicit, short name, so
summaries, graphs and stored lesson outputs do not change from run to run (Keras would otherwise number
layers ``dense_7``, ``dense_8``... depending on what was built before).

Where a document's code is wrong or no longer runs, the builder uses the working form and its docstring
says what changed ("Fixed:"). Where documents 000 and 002 differ (000 ends in logits, 002 in
softmax/sigmoid), ``logits=True`` gives document 000's form and ``logits=False`` document 002's.

``BUILDERS`` maps each builder's name to the builder (all callable without arguments), ``PATTERN_BUILDERS``
maps pattern IDs of ``PATTERNS.md`` to builder names, and :func:`example_inputs` makes NumPy data that fits
any model's inputs.

Bad arguments raise ``ValueError`` naming the argument and the accepted values, before Keras is involved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._patterns_basic import (
    SubclassedMLP,
    encoder_autoencoder,
    ensemble,
    functional_mlp,
    mnist_mlp,
    nested_autoencoder,
    question_answering_model,
    sequential_mlp,
    social_media_model,
    subclassed_mlp,
    ticket_model,
    time_distributed,
)
from ._patterns_blocks import (
    deep_plain_stack,
    deep_residual_stack,
    inception_block,
    inception_module,
    pointwise_bottleneck,
    residual_block,
    residual_blocks,
    toy_resnet,
)
from ._patterns_custom import CustomDense, CustomRNN, custom_dense_model, custom_rnn_model, sequence_classifier
from ._patterns_inputs import example_inputs
from ._patterns_sharing import merges, shared_embedding, siamese_lstm, siamese_vision, vgg19_features

__all__ = [
    "BUILDERS",
    "PATTERN_BUILDERS",
    "CustomDense",
    "CustomRNN",
    "SubclassedMLP",
    "custom_dense_model",
    "custom_rnn_model",
    "deep_plain_stack",
    "deep_residual_stack",
    "encoder_autoencoder",
    "ensemble",
    "example_inputs",
    "functional_mlp",
    "inception_block",
    "inception_module",
    "merges",
    "mnist_mlp",
    "nested_autoencoder",
    "pointwise_bottleneck",
    "question_answering_model",
    "residual_block",
    "residual_blocks",
    "sequence_classifier",
    "sequential_mlp",
    "shared_embedding",
    "siamese_lstm",
    "siamese_vision",
    "social_media_model",
    "subclassed_mlp",
    "ticket_model",
    "time_distributed",
    "toy_resnet",
    "vgg19_features",
]

for _public in (CustomDense, CustomRNN, SubclassedMLP):
    _public.__module__ = __name__  # the public home, as before the split (reprs, saved configs)
del _public


# -- registries -------------------------------------------------------------------------------------------------
BUILDERS: dict[str, Callable[..., Any]] = {
    "mnist_mlp": mnist_mlp,
    "sequential_mlp": sequential_mlp,
    "encoder_autoencoder": encoder_autoencoder,
    "nested_autoencoder": nested_autoencoder,
    "ensemble": ensemble,
    "time_distributed": time_distributed,
    "ticket_model": ticket_model,
    "question_answering_model": question_answering_model,
    "social_media_model": social_media_model,
    "toy_resnet": toy_resnet,
    "residual_blocks": residual_blocks,
    "inception_module": inception_module,
    "merges": merges,
    "shared_embedding": shared_embedding,
    "siamese_lstm": siamese_lstm,
    "siamese_vision": siamese_vision,
    "vgg19_features": vgg19_features,
    "custom_dense_model": custom_dense_model,
    "functional_mlp": functional_mlp,
    "subclassed_mlp": subclassed_mlp,
    "custom_rnn_model": custom_rnn_model,
    "pointwise_bottleneck": pointwise_bottleneck,
    "deep_plain_stack": deep_plain_stack,
    "deep_residual_stack": deep_residual_stack,
}
"""Builder name -> builder. Every builder runs without arguments; a tuple result ends with the main model."""

PATTERN_BUILDERS: dict[str, list[str]] = {
    "P01": ["mnist_mlp"],
    "P02": ["mnist_mlp"],
    "P03": ["sequential_mlp"],
    "P04": ["mnist_mlp"],
    "P05": ["mnist_mlp"],
    "P06": ["sequential_mlp"],
    "P07": ["sequential_mlp"],
    "P08": ["mnist_mlp"],
    "P09": ["mnist_mlp"],
    "P10": ["mnist_mlp"],
    "P11": ["mnist_mlp"],
    "P12": ["encoder_autoencoder"],
    "P13": ["nested_autoencoder"],
    "P14": ["ensemble"],
    "P15": ["time_distributed"],
    "P16": ["ticket_model"],
    "P17": ["ticket_model"],
    "P18": ["ticket_model"],
    "P19": ["question_answering_model"],
    "P20": ["social_media_model"],
    "P21": ["toy_resnet"],
    "P22": ["residual_blocks"],
    "P23": ["inception_module"],
    "P24": ["merges"],
    "P25": ["shared_embedding"],
    "P26": ["siamese_lstm"],
    "P27": ["siamese_vision"],
    "P28": ["vgg19_features"],
    "P29": ["custom_dense_model"],
    "P30": ["custom_dense_model"],
    "P31": ["functional_mlp", "subclassed_mlp"],
    "P32": ["subclassed_mlp"],
    "P33": ["custom_rnn_model"],
    "P34": ["custom_rnn_model"],
    "P36": ["sequential_mlp"],
    "P37": ["deep_plain_stack", "deep_residual_stack", "pointwise_bottleneck"],
}
"""Pattern ID -> the builders of its models. P35 (graph errors) and P38 (Keras 1 idioms) teach failures, not
models, and have no builder."""


