"""One module per family; importing this package registers them all."""
from advzoo.models.gan import GAN

__all__ = ["GAN"]
