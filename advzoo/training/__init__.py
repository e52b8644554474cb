"""Training machinery shared by every family."""
from advzoo.training.adversarial import AdversarialModel
from advzoo.training.generative import GenerativeMixin
from advzoo.training.translation import TranslationMixin

__all__ = ["AdversarialModel", "GenerativeMixin", "TranslationMixin"]
