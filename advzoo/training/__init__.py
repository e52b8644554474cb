"""Training machinery shared by every family."""
from advzoo.training.adversarial import AdversarialModel
from advzoo.training.generative import GenerativeMixin

__all__ = ["AdversarialModel", "GenerativeMixin"]
