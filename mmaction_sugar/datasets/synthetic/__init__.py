# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Embedded synthetic skeleton data (pure numpy, no MMAction2 imports)."""
from .generator import (SIZE_PRESETS, SYNTH_NTU_CLASSES,
                        SYNTH_NTU_NTU120_INDEX, SYNTH_NTU_TWO_PERSON_LABELS,
                        frame_dir_name, generate_clip, generate_performance,
                        generate_synth_ntu, num_xsub_train_subjects,
                        subject_profile, write_synth_ntu)
from .motions import ACTION_LIBRARY, SubjectStyle, animate, perform
from .skeleton_model import (BONES, JOINT_NAMES, NUM_JOINTS, PARENTS,
                             SubjectBody, forward_kinematics)

__all__ = [
    'SIZE_PRESETS', 'SYNTH_NTU_CLASSES', 'SYNTH_NTU_NTU120_INDEX',
    'SYNTH_NTU_TWO_PERSON_LABELS', 'frame_dir_name', 'generate_clip',
    'generate_performance', 'generate_synth_ntu', 'num_xsub_train_subjects',
    'subject_profile', 'write_synth_ntu', 'ACTION_LIBRARY', 'SubjectStyle',
    'animate', 'perform', 'BONES', 'JOINT_NAMES', 'NUM_JOINTS', 'PARENTS',
    'SubjectBody', 'forward_kinematics'
]
