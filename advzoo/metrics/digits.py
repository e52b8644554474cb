"""Digit-domain measures of generated digits: how recognisable they are, and how varied.

A classifier trained on the real 8x8 digits that scikit-learn ships (an RBF support-vector
machine, ~99 % test accuracy) judges generated samples after they are resized to 8x8. This is the
digits counterpart of the Inception score, in a feature space of the same domain as the data.
"""
from __future__ import annotations

import functools

import numpy as np


class DigitClassifier:
    """An RBF SVM (probabilities calibrated by cross-validation) fitted on scikit-learn's real digits (the train split of `advzoo.data.digits`)."""

    def __init__(self, seed: int = 0):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        from advzoo.data import digits_arrays

        images, labels = digits_arrays("train", image_size=8, seed=seed)
        self.model = CalibratedClassifierCV(SVC(gamma="scale", C=10.0, random_state=seed),
                                            ensemble=False)
        self.model.fit(images.reshape(len(images), -1), labels)
        test_images, test_labels = digits_arrays("test", image_size=8, seed=seed)
        self.test_accuracy = float((self.predict(test_images) == test_labels).mean())

    @staticmethod
    def to_8x8(images) -> np.ndarray:
        """(N, S, S, 1) images in [-1, 1] -> (N, 64) in the classifier's input space."""
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or images.shape[-1] != 1 or images.shape[1] != images.shape[2]:
            raise ValueError(f"expected (N, S, S, 1) digit images, got shape {images.shape}")
        if images.shape[1] != 8:
            from skimage.transform import resize

            images = np.stack([resize(im[..., 0], (8, 8), order=1, anti_aliasing=True)
                               for im in images])[..., None]
        return np.clip(images, -1.0, 1.0).reshape(len(images), -1)

    def predict_proba(self, images) -> np.ndarray:
        return self.model.predict_proba(self.to_8x8(images))

    def predict(self, images) -> np.ndarray:
        return self.model.predict(self.to_8x8(images))


@functools.lru_cache(maxsize=2)
def _classifier(seed: int) -> DigitClassifier:
    return DigitClassifier(seed)


def digit_sample_report(images, confident: float = 0.9, seed: int = 0) -> dict:
    """How a real-digit classifier sees a set of (generated) digit images.

    Returns a dict of floats:
        recognisable: fraction of images classified with probability >= `confident`;
        classes_covered: how many of the 10 classes are predicted at least once (argmax);
        class_entropy: entropy of the predicted-class histogram in nats (log 10 = 2.303 is uniform);
        digit_score: exp(E_x KL(p(y|x) || p(y))), the Inception-score formula with this
            classifier (1 = useless, 10 = confident and uniform over classes);
        classifier_test_accuracy: the classifier's accuracy on real held-out digits.
    """
    clf = _classifier(seed)
    proba = clf.predict_proba(images)
    predicted = proba.argmax(axis=1)
    hist = np.bincount(predicted, minlength=10) / len(predicted)
    nonzero = hist[hist > 0]
    marginal = proba.mean(axis=0, keepdims=True)
    kl = (proba * (np.log(proba + 1e-12) - np.log(marginal + 1e-12))).sum(axis=1)
    return {
        "recognisable": float((proba.max(axis=1) >= confident).mean()),
        "classes_covered": int((hist > 0).sum()),
        "class_entropy": float(-(nonzero * np.log(nonzero)).sum()),
        "digit_score": float(np.exp(kl.mean())),
        "classifier_test_accuracy": clf.test_accuracy,
    }
