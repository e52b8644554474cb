"""`bigan`: BiGAN / ALI, G(z), E(x), D(x, z) (Donahue et al. 2017; Dumoulin et al. 2017).

Donahue Eq. 2: min_{G,E} max_D V = E_x[log D(x, E(x))] + E_z[log(1 - D(G(z), z))]. D sees joint
(image, code) pairs: real images with their encodings, and generated images with their codes. At
the optimum the two joint distributions match, so E inverts G (Theorem 2) and E(x) is a learned
feature of x, trained without labels. G and E minimise one loss jointly, each with its own
optimizer. Their loss is D's with the labels swapped, -E[log D(G(z), z)] - E[log(1 - D(x, E(x)))]
(the non-saturating form of Donahue Sec. 3.4, also used by Dumoulin); with objective "gan" it is
the minimax -V itself, with wgan/wgan_gp their critic objective negated (for which the swap is
the same thing). wgan_gp penalises the gradient with respect to (x, z) jointly.

Default data: `nodules` CT patches (images only); `sample_report` measures how well a linear
classifier reads nodule presence from E(x), against the same probe on a random encoder.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import losses, networks
from advzoo.errors import AdvzooError, check_shape
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.zoo import register_family


def bigan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(32, 32, 1),
                  seed: int = 0, **kwargs):
    """`nodules` patches of side S for image_shape (S, S, 1), scaled to [-1, 1], images only."""
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1:
        raise AdvzooError(f"bigan has built-in data (nodules) for image_shape (S, S, 1), not "
                          f"{image_shape}; pass your own dataset to fit().")
    return zoo_data.nodules(split=split, size=image_shape[0], target=None, batch_size=batch_size,
                            seed=seed, **kwargs)


def linear_probe_accuracy(train_features, train_labels, test_features, test_labels) -> float:
    """Test accuracy of a logistic regression on standardised features (the linear probe)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    probe.fit(train_features, train_labels)
    return float(probe.score(test_features, test_labels))


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("bigan", default_dataset=bigan_dataset, section="B",
                 summary="BiGAN / ALI (Donahue; Dumoulin): G(z), encoder E(x), joint D(x, z); "
                         "E gives unsupervised features")
class BiGAN(GenerativeMixin, AdversarialModel):
    """BiGAN with DCGAN-style G, E and the image trunk of D.

    Args:
        image_shape: (S, S, C) with S = 4 * 2^k.
        latent_dim: dimension of z and of E(x).
        objective, n_critic, generator_filters, discriminator_filters, discriminator_norm,
            output_activation: as in `gan`.
        encoder_filters: base width of E's convolutions.
        generator_norm, encoder_norm: normalisation of G and E, "batch" (Radford, Donahue),
            "layer", "instance" or "none".
        joint_units: width of D's z embedding and joint hidden layer.
    """

    players = ("discriminator", "generator", "encoder")
    inference_player = "encoder"
    loss_names = ("d_loss", "ge_loss", "d_real", "d_fake", "gradient_penalty")

    def __init__(self, image_shape=(32, 32, 1), latent_dim: int = 64, objective: str = "nsgan",
                 n_critic: int | None = None, generator_filters: int = 64,
                 encoder_filters: int = 64, discriminator_filters: int = 64,
                 generator_norm: str = "batch", discriminator_norm: str = "auto",
                 encoder_norm: str = "batch",
                 joint_units: int = 256, output_activation: str = "tanh",
                 seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise AdvzooError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if not isinstance(joint_units, int) or joint_units < 1:
            raise AdvzooError(f"joint_units must be a positive int, got {joint_units!r}")
        norm = networks.discriminator_norm_for(discriminator_norm,
                                               bool(self.objective.gradient_penalty))
        networks.validate_norm(encoder_norm)
        self.image_shape, self.latent_dim = image_shape, latent_dim
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")
        self.generator = networks.dcgan_generator(latent_dim, image_shape, generator_filters,
                                                  networks.validate_norm(generator_norm),
                                                  activation_out=output_activation)
        self.encoder = networks.dcgan_encoder(image_shape, latent_dim, encoder_filters, encoder_norm)
        self.discriminator = networks.joint_discriminator(image_shape, latent_dim,
                                                          discriminator_filters, norm, joint_units)
        self._encoder_config = (image_shape, latent_dim, encoder_filters, encoder_norm)
        self.set_family_config(
            image_shape=image_shape, latent_dim=latent_dim, generator_filters=generator_filters,
            encoder_filters=encoder_filters, discriminator_filters=discriminator_filters,
            generator_norm=generator_norm, discriminator_norm=discriminator_norm,
            encoder_norm=encoder_norm,
            joint_units=joint_units, output_activation=output_activation)
        self.players_ready()

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape}

    def encode(self, images, batch_size: int = 256) -> np.ndarray:
        """E(x) for an array of images, as float32 numpy (inference mode)."""
        images = np.asarray(images, np.float32)
        if images.shape[1:] != self.image_shape:
            raise AdvzooError(f"encode expects images of shape (n, {self.image_shape}), got {images.shape}")
        return np.concatenate([np.asarray(self.encoder(tf.constant(images[i:i + batch_size]),
                                                       training=False))
                               for i in range(0, len(images), batch_size)]).astype(np.float32)

    def sample_report(self, n_test: int = 256, seed: int = 0) -> dict:
        """Linear-probe accuracy of nodule presence (nodules train split -> a test split of
        `n_test`) from E(x) and from E's last convolutional features (the input of its code
        layer, as Donahue probe intermediate layers); the same probes on a randomly initialised
        encoder of the same architecture (built after reseeding Keras's global generator with
        `seed`, so the baseline is reproducible); the reconstruction error |x - G(E(x))|."""
        size = self.image_shape[0]
        train = zoo_data.nodules_arrays("train", size=size, seed=seed)
        test = zoo_data.nodules_arrays("test", n=n_test, size=size, seed=seed)
        x_train, x_test = zoo_data.hu_to_unit(train["images"]), zoo_data.hu_to_unit(test["images"])
        keras.utils.set_random_seed(seed)
        random_encoder = networks.dcgan_encoder(*self._encoder_config, name="random_encoder")

        def probe(encoder, layer):
            net = keras.Model(encoder.inputs, encoder.get_layer("code").input) \
                if layer == "trunk" else encoder

            def features(x):
                return np.concatenate([np.asarray(net(tf.constant(x[i:i + 256]), training=False))
                                       for i in range(0, len(x), 256)])

            return linear_probe_accuracy(features(x_train), train["labels"], features(x_test),
                                         test["labels"])

        return {
            "probe_accuracy": probe(self.encoder, "code"),
            "random_encoder_probe_accuracy": probe(random_encoder, "code"),
            "trunk_probe_accuracy": probe(self.encoder, "trunk"),
            "random_encoder_trunk_probe_accuracy": probe(random_encoder, "trunk"),
            "reconstruction_l1": float(np.abs(self.generate(self.encode(x_test)) - x_test).mean()),
            "probe_task": f"nodule present/absent, {len(x_train)} train / {len(x_test)} test patches",
        }

    # -- losses of one step -----------------------------------------------------------------------

    def _logits(self, real, training: bool):
        z = self.sample_latent(tf.shape(real)[0])
        fake = self.generator(z, training=training)
        codes = self.encoder(real, training=training)
        real_logits = self.discriminator([real, codes], training=training)
        fake_logits = self.discriminator([fake, z], training=training)
        return (real, codes), (fake, z), real_logits, fake_logits

    def discriminator_losses(self, real, training: bool):
        """D: real pairs (x, E(x)) against generated pairs (G(z), z)."""
        real_pair, fake_pair, real_logits, fake_logits = self._logits(real, training)
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        logs = {"d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits)}
        if self.objective.gradient_penalty:
            logs["gradient_penalty"] = losses.joint_gradient_penalty(
                lambda pair: self.discriminator(pair, training=training),
                [tf.stop_gradient(t) for t in real_pair], [tf.stop_gradient(t) for t in fake_pair],
                seed=self.seed_generator)
            loss += self.objective.gradient_penalty * logs["gradient_penalty"]
        return loss, {"d_loss": loss, **logs}

    def generator_encoder_losses(self, real, training: bool):
        """G and E jointly: D's loss with the labels swapped (minimax -V for objective 'gan')."""
        _, _, real_logits, fake_logits = self._logits(real, training)
        if self.objective.name == "gan":
            loss = -self.objective.discriminator_loss(real_logits, fake_logits)
        else:
            loss = self.objective.discriminator_loss(fake_logits, real_logits)
        return loss, {"ge_loss": loss}

    # -- the algorithm ----------------------------------------------------------------------------

    generator_players = ("generator", "encoder")  # minimise one loss jointly (Donahue Eq. 3)

    def step_losses(self, real):
        """D's update, then the joint update of G and E."""
        return (lambda training: self.discriminator_losses(real, training=training),
                lambda training: self.generator_encoder_losses(real, training=training))
