"""AWS foundations: the EFS-backed shared volume and the ECR image mirror."""

from .ecr_mirror import CopyJobSettings, EcrMirror, EcrMirrorArgs
from .efs_shared_volume import EfsSharedVolume, EfsSharedVolumeArgs, ThroughputMode
from .image_copy_job import ImageCopy, ImageCopyJob, ImageCopyJobArgs
from .images import CACHEABLE, ImageRef, mirror_repository, mirror_uri, needs_copy

__all__ = [
    "CACHEABLE",
    "CopyJobSettings",
    "EcrMirror",
    "EcrMirrorArgs",
    "EfsSharedVolume",
    "EfsSharedVolumeArgs",
    "ImageCopy",
    "ImageCopyJob",
    "ImageCopyJobArgs",
    "ImageRef",
    "ThroughputMode",
    "mirror_repository",
    "mirror_uri",
    "needs_copy",
]
