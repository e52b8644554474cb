"""`anogan`: AnoGAN, unsupervised anomaly detection with a GAN of normal anatomy (Schlegl et
al. 2017).

The GAN (DCGAN by default, any `gan` option) is trained on normal images only, so G's manifold
holds normal anatomy. A query image x is mapped to the latent space by optimising z with G and D
frozen (Sec. 2.2) on the loss of Eq. 5, L(z) = (1 - lambda) * R(z) + lambda * D(z), with the
residual loss R(z) = sum |x - G(z)| (Eq. 3) and the discrimination loss
D(z) = sum |f(x) - f(G(z))| (Eq. 4, feature matching on D's intermediate layer f, the input of
its logit), lambda = 0.1. The anomaly score is the same loss at the final z (Eq. 6): images that
G cannot reproduce, such as those with a lesion, score high.

Default data: the normal subset of the `lesions` CT phantoms; `sample_report` gives the AUC of
the score on a held-out mix of normal and lesion slices.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo.errors import AdvzooError
from advzoo.models.gan import GAN
from advzoo.zoo import register_family

#: Soft-tissue CT window (HU): the liver lesions (35-60 HU below the liver) differ by 0.2-0.3
#: in [-1, 1] instead of 0.03-0.06 through the full [-1024, 1024] window.
SOFT_TISSUE_WINDOW = (-160.0, 240.0)


def anogan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(32, 32, 1),
                   window=SOFT_TISSUE_WINDOW, subset: str = "normal", seed: int = 0, **kwargs):
    """`lesions` slices of side S for image_shape (S, S, 1) mapped to [-1, 1] through the CT
    `window` (HU), images only, normal ones by default."""
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1:
        raise AdvzooError(f"anogan has built-in data (lesions) for image_shape (S, S, 1), not "
                          f"{image_shape}; pass your own dataset of normal images to fit().")
    return zoo_data.lesions(split=split, size=image_shape[0], subset=subset, target=None,
                            window=tuple(window), batch_size=batch_size, seed=seed, **kwargs)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("anogan", default_dataset=anogan_dataset, section="B",
                 summary="AnoGAN (Schlegl): GAN of normal images; anomaly score = residual + "
                         "discrimination loss after latent inversion")
class AnoGAN(GAN):
    """A `gan` of normal images with Schlegl's anomaly score.

    Args:
        lambda_feature: lambda of Eq. 5-6, the weight of the discrimination (feature) loss
            (Schlegl: 0.1); 0 scores by the residual alone.
        window: the CT window (HU) the default data and `sample_report` map to [-1, 1].
        image_shape: default (32, 32, 1); every other option is `gan`'s.
    """

    def __init__(self, image_shape=(32, 32, 1), latent_dim: int = 64,
                 lambda_feature: float = 0.1, window=SOFT_TISSUE_WINDOW, **kwargs):
        if not 0.0 <= lambda_feature <= 1.0:
            raise AdvzooError(f"lambda_feature weighs residual (1 - lambda) against "
                              f"discrimination loss (lambda): expected a value in [0, 1], got "
                              f"{lambda_feature!r}")
        window = tuple(float(w) for w in window)
        if len(window) != 2 or not window[0] < window[1]:
            raise AdvzooError(f"window must be (low, high) in HU with low < high, got {window}")
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, **kwargs)
        self.lambda_feature = float(lambda_feature)
        self.window = window
        self._family_config.update({"lambda_feature": lambda_feature, "window": window})

    def discriminator_features(self, images):
        """f(x): D's intermediate features, the input of its logit layer (inference mode)."""
        logits = self.discriminator.get_layer("logits")
        features = keras.Model(self.discriminator.inputs, logits.input, name="features")
        return features(images, training=False)

    def score_parts(self, images, generated):
        """Per-sample residual loss R (Eq. 3) and discrimination loss D (Eq. 4), as L1 sums."""
        def l1(a, b):
            diff = tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32))
            return tf.reduce_sum(tf.reshape(diff, (tf.shape(diff)[0], -1)), axis=1)

        return (l1(images, generated),
                l1(self.discriminator_features(images), self.discriminator_features(generated)))

    def inversion_loss(self, images, generated):
        """Eq. 5: (1 - lambda) * R + lambda * D, per sample (what `invert` minimises)."""
        residual, discrimination = self.score_parts(images, generated)
        return (1.0 - self.lambda_feature) * residual + self.lambda_feature * discrimination

    def anomaly_score(self, images, steps: int = 300, restarts: int = 2,
                      learning_rate: float = 0.05, batch_size: int = 256, seed: int | None = 0):
        """Schlegl's anomaly score A(x) = (1 - lambda) R(x) + lambda D(x) after inversion (Eq. 6).

        Returns:
            dict of float32 arrays (n,): "score", "residual" (R), "discrimination" (D), and
            "z" (n, latent_dim), the codes found.
        """
        images = np.asarray(images, np.float32)
        z, score = self.invert(images, steps=steps, restarts=restarts, learning_rate=learning_rate,
                               batch_size=batch_size, seed=seed)
        residual, discrimination = [], []
        for i in range(0, len(images), batch_size):
            r, d = self.score_parts(tf.constant(images[i:i + batch_size]),
                                    self.decode(tf.constant(z[i:i + batch_size])))
            residual.append(r.numpy())
            discrimination.append(d.numpy())
        return {"score": score, "residual": np.concatenate(residual),
                "discrimination": np.concatenate(discrimination), "z": z}

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape, "window": self.window}

    def sample_report(self, n: int = 128, steps: int = 300, restarts: int = 2, seed: int = 0) -> dict:
        """AUC of the anomaly score on `n` held-out lesion phantoms (half normal, half with
        lesions), with the AUCs of its two parts alone (lambda = 0 and lambda = 1 of Eq. 6)."""
        from advzoo.metrics import auc

        test = zoo_data.lesions_arrays("test", n=n, size=self.image_shape[0], seed=seed)
        images = zoo_data.hu_to_unit(test["images"], self.window)
        parts = self.anomaly_score(images, steps=steps, restarts=restarts, seed=seed)
        return {"auc": auc(test["labels"], parts["score"]),
                "auc_residual_only": auc(test["labels"], parts["residual"]),
                "auc_discrimination_only": auc(test["labels"], parts["discrimination"]),
                "lambda_feature": self.lambda_feature, "test_images": int(n),
                "inversion": f"{steps} Adam steps, {restarts} restarts"}
