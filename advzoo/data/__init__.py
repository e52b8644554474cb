"""Datasets of advzoo: procedural phantoms, built-in toy sets and readers of the user's files.

Nothing here downloads: each dataset is drawn from a seeded generator, ships inside an installed
package (scikit-learn's digits), or is read from a path the user gives.

Phantoms (numpy form `NAME_arrays` in physical units, `tf.data` form `NAME` scaled to [-1, 1]):
ct_slices, mr_slices, lowdose_ct, undersampled_mr, multi_contrast_sr, lesions, nodules,
domain_shift (phantoms.py); lowdose_ct_clinical (lowdose.py); retina, centerlines (vessels.py);
stain_shift, sketch_xray (histology.py). Unit maps: advzoo.data.scaling. Readers:
advzoo.data.readers. See README.md.

Low-dose CT simulation shared by phantoms and real slices: `simulate_low_dose` (lowdose.py).
Domain randomisation of the segmentation phantoms (`randomise=` of ct_slices and retina):
`DomainRandomisation` (randomisation.py).
"""
from advzoo.data.toy import digits, digits_arrays, modes_covered, ring, ring_arrays, ring_centres
from advzoo.data._phantom_core import clear_cache
from advzoo.data.histology import (STAINS, sketch_xray, sketch_xray_arrays, stain_shift,
                                   stain_shift_arrays)
from advzoo.data.phantoms import (CT_HU_RANGES, CT_LABELS, ct_slices, ct_slices_arrays, domain_shift,
                                  domain_shift_arrays, lesions, lesions_arrays, lowdose_ct,
                                  lowdose_ct_arrays, mr_slices, mr_slices_arrays, multi_contrast_sr,
                                  multi_contrast_sr_arrays, nodules, nodules_arrays, undersampled_mr,
                                  undersampled_mr_arrays)
from advzoo.data.pairs import TASKS as TRANSLATION_TASKS, translation_pairs, translation_pairs_arrays
from advzoo.data.readers import (dicom_dataset, image_folder_dataset, medmnist_arrays,
                                 medmnist_dataset, nifti_dataset, read_dicom, read_dicom_series,
                                 read_image, read_nifti)
from advzoo.data.scaling import (CT_WINDOW, MR_RANGE, centerlines_to_unit, from_unit, hu_to_unit,
                                 mr_to_unit, to_unit, unit_to_centerlines, unit_to_hu, unit_to_mr)
from advzoo.data.vessels import centerlines, centerlines_arrays, retina, retina_arrays

__all__ = ["digits", "digits_arrays", "ring", "ring_arrays", "ring_centres", "modes_covered",
           # phantoms
           "ct_slices", "ct_slices_arrays", "mr_slices", "mr_slices_arrays", "lowdose_ct",
           "lowdose_ct_arrays", "undersampled_mr", "undersampled_mr_arrays", "multi_contrast_sr",
           "multi_contrast_sr_arrays", "lesions", "lesions_arrays", "nodules", "nodules_arrays",
           "domain_shift", "domain_shift_arrays", "retina", "retina_arrays", "centerlines",
           "centerlines_arrays", "stain_shift", "stain_shift_arrays", "sketch_xray",
           "sketch_xray_arrays", "CT_LABELS", "CT_HU_RANGES", "STAINS", "clear_cache",
           "translation_pairs", "translation_pairs_arrays", "TRANSLATION_TASKS",
           # scaling
           "CT_WINDOW", "MR_RANGE", "to_unit", "from_unit", "hu_to_unit", "unit_to_hu", "mr_to_unit",
           "unit_to_mr", "centerlines_to_unit", "unit_to_centerlines",
           # readers
           "read_nifti", "nifti_dataset", "read_dicom", "read_dicom_series", "dicom_dataset",
           "read_image", "image_folder_dataset", "medmnist_arrays", "medmnist_dataset"]

from advzoo.data.lesion_pairs import lesion_pairs, lesion_pairs_arrays  # noqa: E402

__all__ += ["lesion_pairs", "lesion_pairs_arrays"]

from advzoo.data.folders import folder_arrays, labelled_folders, paired_folders, unpaired_folders  # noqa: E402

__all__ += ["paired_folders", "unpaired_folders", "labelled_folders", "folder_arrays"]

from advzoo.data.lowdose import (CLINICAL_FLUX, lowdose_ct_clinical,  # noqa: E402
                                 lowdose_ct_clinical_arrays, simulate_low_dose)
from advzoo.data.randomisation import DomainRandomisation  # noqa: E402

__all__ += ["simulate_low_dose", "lowdose_ct_clinical", "lowdose_ct_clinical_arrays", "CLINICAL_FLUX",
            "DomainRandomisation"]
