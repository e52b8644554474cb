"""`ssl_gan`: semi-supervised classification with a GAN (Salimans et al. 2016, "Improved
Techniques for Training GANs", Sec. 5; Madani et al. 2018, "Semi-supervised learning with
generative adversarial networks for chest X-ray classification with ability of data domain
adaptation").

The discriminator D is a K-class classifier C whose K logits l_1..l_K also decide real vs. fake:
Salimans add a (K+1)-th "generated" class and fix its logit at 0, so

    p(y = k | x) = exp(l_k) / (sum_j exp(l_j) + 1),   D(x) = Z(x) / (Z(x) + 1),  Z = sum_k exp(l_k),

i.e. D's real/fake logit is log Z(x) = logsumexp_k l_k(x). D minimises (Salimans Sec. 5)

    L = L_supervised + lambda L_unsupervised,
    L_supervised   = -E_{x, y ~ labelled} log p(y | x, y < K+1)   (softmax cross-entropy of l),
    L_unsupervised = -E_{x ~ unlabelled} log D(x) - E_z log(1 - D(G(z))),

the second being the `gan` (= `nsgan`) discriminator loss on the logit log Z. G minimises feature
matching (Salimans Sec. 3.1): || E_x f(x) - E_z f(G(z)) ||^2 on f, D's last hidden layer (the
globally pooled features under the K logits), computed on the unlabelled batch
(`advzoo.losses.feature_matching_loss`); `feature_matching=False` gives G the objective's
generator loss on log Z(G(z)) instead. lambda = `lambda_unsupervised` (1 in Salimans' equation;
0 is the supervised-only baseline: the same classifier, data and steps, no G, no unlabelled
images). The deployed network is the classifier C: softmax over the K logits.

D follows the spirit of Salimans' regularised discriminators (Gaussian noise on the input,
dropout after every stage, no batch norm) on the zoo's DCGAN pieces: strided 4x4 convolutions
(`networks.common.weight_layer`/`apply_norm`, LeakyReLU 0.2) down to 4x4, a 3x3 convolution,
global average pooling (the matched features f) and a float32 Dense(K). G is the zoo's DCGAN
generator (`networks.dcgan_generator`, batch norm as in Salimans).

Data: each training element is (labelled image, label, unlabelled image); `ssl_gan_dataset`
keeps a class-balanced `labelled_fraction` of the train split labelled (repeated, reshuffled)
and pairs it with the rest, whose labels are never read. Built-in sets: scikit-learn's digits
(Salimans' MNIST experiment in small) and the `lesions` CT phantoms (normal vs. abnormal, the
two-class set-up of Madani's normal/abnormal chest X-rays). Val/test: (image, label) pairs.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import networks
from advzoo.data._common import as_dataset, paired_with_unpaired
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.losses import feature_matching_loss
from advzoo.models.dan import labelled_count
from advzoo.models.segmentation import check_positive_int, check_weight
from advzoo.networks.common import apply_norm, weight_layer
from advzoo.networks.dcgan import dcgan_doublings
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.training.translation import as_batch, check_unit_range
from advzoo.zoo import register_family

DATASETS = ("digits", "lesions")
DATASET_CLASSES = {"digits": 10, "lesions": 2}
#: Soft-tissue CT window (HU) for the lesion phantoms (the lesions are 35-60 HU below the liver),
#: as in `anogan`.
SOFT_TISSUE_WINDOW = (-160.0, 240.0)
LEARNING_RATE = 3e-3  # Salimans et al.'s Adam(3e-3, beta_1=0.5) of their MNIST model, both players


def check_ssl_image_shape(image_shape, dataset: str) -> int:
    """The side S of the built-in sets' (S, S, 1) images."""
    image_shape = check_shape(image_shape, "image_shape")
    minimum = 8 if dataset == "digits" else 16
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1 \
            or image_shape[0] < minimum:
        raise AdvzooError(f"the built-in {dataset} data has images (S, S, 1) with S >= {minimum}, "
                          f"not image_shape {image_shape}; pass your own (labelled image, label, "
                          "unlabelled image) dataset to fit().")
    return image_shape[0]


def ssl_arrays(split: str = "train", image_shape=(16, 16, 1), dataset: str = "digits",
               n: int | None = None):
    """(images in [-1, 1] (N, S, S, 1), int32 labels) of a built-in set's split.

    The split itself never depends on a training seed (digits: the zoo's seed-0 70/15/15
    partition; lesions: the seed-0 phantom draws), so every seed is scored on the same test images
    and no test image is ever trained on.
    """
    check_choice("dataset", dataset, DATASETS)
    size = check_ssl_image_shape(image_shape, dataset)
    if dataset == "digits":
        images, labels = zoo_data.digits_arrays(split, image_size=size)
        if n is not None:
            images, labels = images[:n], labels[:n]
    else:
        arrays = zoo_data.lesions_arrays(split, n=n, size=size)
        images = zoo_data.hu_to_unit(arrays["images"], SOFT_TISSUE_WINDOW)
        labels = arrays["labels"]
    return np.asarray(images, np.float32), np.asarray(labels, np.int32)


def balanced_order(labels, seed: int = 0) -> np.ndarray:
    """Indices of `labels` in a seeded order that cycles through the classes (one image of each
    class, then a second of each, ...), so any prefix is as class-balanced as it can be
    (Salimans label an equal number of images per class)."""
    labels = np.asarray(labels)
    order = np.random.default_rng(seed).permutation(len(labels))
    per_class = [order[labels[order] == c] for c in np.unique(labels)]
    rounds = max(len(p) for p in per_class)
    return np.array([p[r] for r in range(rounds) for p in per_class if r < len(p)], np.int64)


def ssl_gan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(16, 16, 1),
                    dataset: str = "digits", labelled_fraction: float = 0.1, n: int | None = None,
                    shuffle: bool | None = None, seed: int = 0):
    """Semi-supervised classification data.

    train: (labelled image, label, unlabelled image) triples. `labelled_fraction` of the split
    (class-balanced, chosen by `seed`, at least one image) keeps its labels and is repeated and
    reshuffled as often as needed; the other images are the unlabelled set (their labels are never
    read), one pass over them is an epoch. val / test: (image, label) pairs of the whole split
    (`labelled_fraction` does not apply).

    Args:
        dataset: "digits" (scikit-learn's 1,797 digits, 10 classes, 8x8 resized to S) or "lesions"
            (CT phantoms, 0 normal / 1 with liver lesions, soft-tissue window).
        seed: picks the labelled images and seeds the shuffling; the images of each split do not
            depend on it.
    """
    images, labels = ssl_arrays(split, image_shape, dataset, n=n)
    if split != "train":
        return as_dataset((images, labels), batch_size=batch_size, shuffle=bool(shuffle),
                          seed=seed)
    order = balanced_order(labels, seed)
    k = labelled_count(len(images), labelled_fraction)
    labelled, unlabelled = np.sort(order[:k]), np.sort(order[k:])
    return paired_with_unpaired((images[labelled], labels[labelled]), images[unlabelled],
                                batch_size=batch_size,
                                shuffle=True if shuffle is None else bool(shuffle), seed=seed,
                                repeat_pairs=True)


def ssl_discriminator(image_shape, num_classes: int, filters: int = 32, norm: str = "none",
                      dropout: float = 0.3, noise_std: float = 0.2,
                      name: str = "discriminator") -> keras.Model:
    """D = C: x -> [K logits (float32), pooled features f].

    Gaussian noise on the input, then per stage a strided 4x4 convolution (width filters * 2^i,
    DCGAN), `norm`, LeakyReLU(0.2) and dropout, down to 4x4; a 3x3 convolution, global average
    pooling (f, the layer feature matching reads) and a Dense(K) in float32.
    """
    x_in = keras.Input(image_shape, name="x")
    x = keras.layers.GaussianNoise(noise_std, name="input_noise")(x_in) if noise_std else x_in
    doublings = dcgan_doublings(image_shape)
    for i in range(doublings):
        conv = keras.layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same",
                                   use_bias=norm in ("none", "spectral"), name=f"down_{i}")
        x = apply_norm(weight_layer(conv, norm)(x), norm, name=f"norm_down_{i}")
        x = keras.layers.LeakyReLU(0.2, name=f"down_{i}_act")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"down_{i}_dropout")(x)
    width = filters * 2 ** (doublings - 1)
    conv = keras.layers.Conv2D(width, 3, padding="same", use_bias=norm in ("none", "spectral"),
                               name="top")
    x = apply_norm(weight_layer(conv, norm)(x), norm, name="norm_top")
    x = keras.layers.LeakyReLU(0.2, name="top_act")(x)
    features = keras.layers.GlobalAveragePooling2D(name="features")(x)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="class_logits")(features)
    return keras.Model(x_in, [logits, features], name=name)


def real_fake_logit(class_logits):
    """log Z(x) = logsumexp_k l_k(x): the logit of D(x) = Z / (Z + 1) (Salimans Sec. 5, the
    generated class's logit fixed at 0)."""
    return tf.reduce_logsumexp(tf.cast(class_logits, tf.float32), axis=-1, keepdims=True)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("ssl_gan", default_dataset=ssl_gan_dataset, section="F",
                 summary="semi-supervised GAN classifier (Salimans; Madani): D has K class logits "
                         "+ a fixed fake logit, CE on labelled, real-vs-fake on unlabelled and "
                         "generated images, feature matching for G")
class SSLGAN(GenerativeMixin, AdversarialModel):
    """K-class classifier C = D trained with a generator G (Salimans et al. 2016, Sec. 5).

    `fit` takes (labelled image, label, unlabelled image) triples (e.g. `ssl_gan_dataset`); with
    `lambda_unsupervised=0` plain (image, label) pairs work too. `evaluate` on (image, label)
    pairs reports the cross-entropy and the accuracy; on triples every loss. `classify` /
    `predict_proba` run C; `export` writes C (float32 images in, K softmax probabilities out).

    Args:
        image_shape: (S, S, C) with S = 4 * 2^k (8, 16, 32, 64, ...).
        num_classes: K >= 2 (labels are int ids 0..K-1).
        latent_dim: dimension of G's code z.
        generator: "dcgan" (the zoo's DCGAN generator, batch norm).
        generator_filters, discriminator_filters: base widths of G and D.
        discriminator_norm: normalisation in D: "none" (default; Salimans regularise D by noise
            and dropout), "layer", "instance", "spectral" or "batch".
        dropout: dropout rate after each stage of D.
        noise_std: standard deviation of the Gaussian noise added to D's input in training.
        lambda_unsupervised: lambda on L_unsupervised (Salimans: 1; 0: supervised-only baseline).
        feature_matching: G minimises feature matching on D's pooled features (Salimans) or, when
            False, the objective's generator loss on log Z(G(z)).
        objective: "gan" or "nsgan" (the unsupervised loss is the logistic loss on log Z; they
            differ only in G's loss without feature matching).
        n_critic, seed: as in every family.
    """

    players = ("discriminator", "generator")
    inference_player = "classifier"
    loss_names = ("d_loss", "ce", "unsupervised", "g_loss", "d_real", "d_fake")

    def __init__(self, image_shape=(16, 16, 1), num_classes: int = 10, latent_dim: int = 64,
                 generator: str = "dcgan", generator_filters: int = 32,
                 discriminator_filters: int = 32, discriminator_norm: str = "none",
                 dropout: float = 0.3, noise_std: float = 0.2,
                 lambda_unsupervised: float = 1.0, feature_matching: bool = True,
                 objective: str = "nsgan", n_critic: int | None = None,
                 seed: int | None = None, **kwargs):
        check_choice("objective", objective, ("gan", "nsgan"))  # D(x) = sigmoid(log Z)
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        dcgan_doublings(image_shape)  # errors on sizes the DCGAN pieces cannot reach
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise AdvzooError(f"num_classes must be an int >= 2, got {num_classes!r}")
        check_positive_int("latent_dim", latent_dim)
        check_choice("generator", generator, ("dcgan",))
        check_positive_int("generator_filters", generator_filters)
        check_positive_int("discriminator_filters", discriminator_filters)
        networks.validate_norm(discriminator_norm)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0.0 <= dropout < 1.0:
            raise AdvzooError(f"dropout must be a rate in [0, 1), got {dropout!r}")
        noise_std = check_weight("noise_std", noise_std)
        self.lambda_unsupervised = check_weight("lambda_unsupervised", lambda_unsupervised)
        if not isinstance(feature_matching, bool):
            raise AdvzooError(f"feature_matching must be True or False, got {feature_matching!r}")
        self.image_shape, self.num_classes, self.latent_dim = image_shape, num_classes, latent_dim
        self.feature_matching = feature_matching
        self.generator = networks.dcgan_generator(latent_dim, image_shape, generator_filters)
        self.discriminator = ssl_discriminator(image_shape, num_classes, discriminator_filters,
                                               discriminator_norm, float(dropout), noise_std)
        # the deployed network: softmax over D's K logits (shares every weight of D)
        probabilities = keras.layers.Softmax(dtype="float32", name="probabilities")(
            self.discriminator.outputs[0])
        self.classifier = keras.Model(self.discriminator.input, probabilities,
                                      name="classifier")
        if not self.lambda_unsupervised:  # supervised-only: no G, no unlabelled terms
            self.loss_names = ("d_loss", "ce")
        self.set_family_config(
            image_shape=image_shape, num_classes=num_classes, latent_dim=latent_dim,
            generator=generator, generator_filters=generator_filters,
            discriminator_filters=discriminator_filters, discriminator_norm=discriminator_norm,
            dropout=dropout, noise_std=noise_std, lambda_unsupervised=lambda_unsupervised,
            feature_matching=feature_matching)
        self.players_ready()
        self.trackers["accuracy"] = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def default_optimizers(self) -> dict:
        """Adam(3e-3, beta_1=0.5) for D and G: Salimans et al.'s MNIST setting (their CIFAR-10
        model used 3e-4). On the digits, 400 steps at 3e-3 reached 0.89 test accuracy with 5 %
        labels against 0.83 at 1e-3 for the supervised-only classifier (seed 0)."""
        return {p: keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5) for p in self.players}

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape,
                "dataset": "lesions" if self.num_classes == 2 else "digits"}

    def call(self, images, training=False):
        return self.classifier(images, training=training)

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        """(labelled image, label, unlabelled image or None)."""
        if isinstance(data, (tuple, list)) and len(data) == 3:
            image, label, unlabelled = data
            unlabelled = self.check_input(unlabelled, self.image_shape, "unlabelled images")
        else:
            image, label, _ = keras.utils.unpack_x_y_sample_weight(data)
            unlabelled = None
            if label is None:
                raise AdvzooError("ssl_gan trains on (labelled image, label, unlabelled image) "
                                  "triples; got images only")
        return self.check_input(image, self.image_shape, "images"), self.check_label(label), \
            unlabelled

    def check_label(self, label):
        """Int class ids (batch,) (or (batch, 1)); one-hot (batch, K) is turned into ids."""
        label = tf.convert_to_tensor(label)
        if label.shape.rank == 2 and label.shape[-1] == self.num_classes:
            label = tf.argmax(label, axis=-1)
        elif label.shape.rank == 2 and label.shape[-1] == 1:
            label = label[:, 0]
        if label.shape.rank != 1:
            raise AdvzooError(f"{type(self).__name__} expects int labels of shape (batch,) or "
                              f"one-hot (batch, {self.num_classes}), got (batch, "
                              f"{', '.join(str(s) for s in label.shape[1:])})")
        return tf.cast(label, tf.int32)

    def supervised_loss(self, image, label, training: bool):
        """L_supervised: softmax cross-entropy of the K logits on the labelled batch."""
        logits = self.discriminator(image, training=training)[0]
        ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            label, tf.cast(logits, tf.float32)))
        return ce, logits

    def discriminator_losses(self, image, label, unlabelled, training: bool):
        """L = L_supervised + lambda L_unsupervised (Salimans Sec. 5) for D = C."""
        ce, logits = self.supervised_loss(image, label, training)
        loss, logs = ce, {"ce": ce, "logits": logits}
        if self.lambda_unsupervised and unlabelled is not None:
            fake = self.generator(self.sample_latent(tf.shape(unlabelled)[0]), training=training)
            real_logits = real_fake_logit(self.discriminator(unlabelled, training=training)[0])
            fake_logits = real_fake_logit(self.discriminator(fake, training=training)[0])
            # -E log D(x) - E log(1 - D(G(z))) with D = sigmoid(log Z): the logistic loss
            unsupervised = self.objective.discriminator_loss(real_logits, fake_logits)
            loss += self.lambda_unsupervised * unsupervised
            logs.update(unsupervised=unsupervised, d_real=tf.reduce_mean(real_logits),
                        d_fake=tf.reduce_mean(fake_logits))
        return loss, {"d_loss": loss, **logs}

    def generator_losses(self, unlabelled, training: bool):
        """Feature matching ||E f(x) - E f(G(z))||^2 on the unlabelled batch (Salimans Sec. 3.1),
        or the objective's generator loss on log Z(G(z))."""
        fake = self.generator(self.sample_latent(tf.shape(unlabelled)[0]), training=training)
        fake_logits, fake_features = self.discriminator(fake, training=training)
        if self.feature_matching:
            real_features = self.discriminator(unlabelled, training=training)[1]
            loss = feature_matching_loss(tf.stop_gradient(real_features), fake_features)
        else:
            loss = self.objective.generator_loss(real_fake_logit(fake_logits))
        return loss, {"g_loss": loss}

    def train_step(self, data):
        image, label, unlabelled = self.unpack_batch(data)
        if self.lambda_unsupervised and unlabelled is None:
            raise AdvzooError("ssl_gan with lambda_unsupervised > 0 trains on (labelled image, "
                              "label, unlabelled image) triples (see advzoo.models.ssl_gan."
                              "ssl_gan_dataset); got (image, label) pairs")
        if not self.lambda_unsupervised:
            unlabelled = None  # the baseline never reads the unlabelled images
        logs = {}
        for _ in range(self.n_critic if unlabelled is not None else 1):
            logs.update(self.apply_update("discriminator", lambda: self.discriminator_losses(
                image, label, unlabelled, True)))
        if unlabelled is not None:
            logs.update(self.apply_update("generator", lambda: self.generator_losses(
                unlabelled, True)))
        self.trackers["accuracy"].update_state(label, logs.pop("logits"))
        return self.record(logs)

    def test_step(self, data):
        """Pairs: CE and accuracy. Triples: every loss, without updates."""
        image, label, unlabelled = self.unpack_batch(data)
        if not self.lambda_unsupervised:
            unlabelled = None
        logs = self.discriminator_losses(image, label, unlabelled, False)[1]
        if unlabelled is not None:
            logs.update(self.generator_losses(unlabelled, False)[1])
        self.trackers["accuracy"].update_state(label, logs.pop("logits"))
        results = self.record(logs)
        return {k: v for k, v in results.items() if k in logs or k == "accuracy"}

    # -- for users ------------------------------------------------------------------------------

    def predict_proba(self, images, batch_size: int = 256, check_range: bool = True) -> np.ndarray:
        """C's class probabilities (N, K) float32 for `images` ((N, *image_shape) or one image,
        numpy or tensor, scaled to [-1, 1]); (K,) for one image."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise AdvzooError(f"batch_size must be a positive int, got {batch_size!r}")
        what = f"{type(self).__name__}.predict_proba"
        array, single = as_batch(images, self.image_shape, what)
        if check_range:
            check_unit_range(array, f"{what} inputs")
        out = np.concatenate([np.asarray(keras.ops.convert_to_numpy(
            self.classifier(array[i:i + batch_size], training=False)), np.float32)
            for i in range(0, len(array), batch_size)])
        return out[0] if single else out

    def classify(self, images, batch_size: int = 256, check_range: bool = True) -> np.ndarray:
        """int32 class ids (N,) (a scalar for one image): the argmax of `predict_proba`."""
        return np.argmax(self.predict_proba(images, batch_size, check_range), -1).astype(np.int32)

    def classification_report(self, split: str = "test", n: int | None = None, images=None,
                              labels=None) -> dict:
        """Accuracy and mean cross-entropy of C on (images, labels), by default the `split` of the
        built-in set that matches the model (digits for K = 10, lesions for K = 2)."""
        if (images is None) != (labels is None):
            raise AdvzooError("classification_report takes both images and labels, or neither "
                              "(the built-in split)")
        if images is None:
            images, labels = ssl_arrays(split, self.image_shape,
                                        self.dataset_options()["dataset"], n=n)
        labels = np.asarray(labels).astype(np.int64).reshape(-1)
        proba = self.predict_proba(images)
        if proba.ndim == 1:
            proba = proba[None]
        if len(labels) != len(proba) or labels.min() < 0 or labels.max() >= self.num_classes:
            raise AdvzooError(f"classification_report: {len(labels)} labels in [0, "
                              f"{self.num_classes}) expected for {len(proba)} images")
        picked = np.clip(proba[np.arange(len(labels)), labels], 1e-7, 1.0)
        return {"accuracy": float((proba.argmax(-1) == labels).mean()),
                "ce": float(-np.log(picked).mean()), "images": int(len(labels))}

    def sample_report(self) -> dict:
        """The preset metadata's numbers: test accuracy and cross-entropy of the classifier."""
        return self.classification_report()
