"""One module per family; importing this package registers them all."""
from advzoo.models.gan import GAN

__all__ = ["GAN"]

from advzoo.models.unrolled import UnrolledGAN  # noqa: E402

__all__ += ["UnrolledGAN"]

from advzoo.models.cgan import ConditionalGAN  # noqa: E402

__all__ += ["ConditionalGAN"]

from advzoo.models.infogan import InfoGAN  # noqa: E402

__all__ += ["InfoGAN"]

from advzoo.models.centerline import CenterlineGAN  # noqa: E402

__all__ += ["CenterlineGAN"]

from advzoo.models.bigan import BiGAN  # noqa: E402

__all__ += ["BiGAN"]

from advzoo.models.lapgan import LAPGAN  # noqa: E402

__all__ += ["LAPGAN"]

from advzoo.models.anogan import AnoGAN  # noqa: E402

__all__ += ["AnoGAN"]

from advzoo.models.progan import ProGAN  # noqa: E402

__all__ += ["ProGAN"]

from advzoo.models.pix2pix import Pix2Pix  # noqa: E402

__all__ += ["Pix2Pix"]

from advzoo.models.srgan import SRGAN  # noqa: E402

__all__ += ["SRGAN"]

from advzoo.models.cyclegan import CycleGAN  # noqa: E402

__all__ += ["CycleGAN"]

from advzoo.models.simgan import SimGAN  # noqa: E402

__all__ += ["SimGAN"]

from advzoo.models.adversarial_segmentation import AdversarialSegmentation  # noqa: E402
from advzoo.models.segan import SegAN  # noqa: E402
from advzoo.models.dan import DAN  # noqa: E402

__all__ += ["AdversarialSegmentation", "SegAN", "DAN"]

from advzoo.models.dann import DANN  # noqa: E402

__all__ += ["DANN"]

from advzoo.models.pixelda import PixelDA  # noqa: E402

__all__ += ["PixelDA"]

from advzoo.models.ssl_gan import SSLGAN  # noqa: E402

__all__ += ["SSLGAN"]

from advzoo.models.vagan import VAGAN  # noqa: E402

__all__ += ["VAGAN"]

from advzoo.models.adda import ADDA  # noqa: E402

__all__ += ["ADDA"]
