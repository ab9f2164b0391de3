# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .class_text_bank import (DEFAULT_CACHE_DIR, ClassTextBank,
                              TextBankCacheWarning, build_class_text_bank,
                              class_text_bank_key)
from .frozen_text_encoder import (FrozenTextEncoder, detect_kind,
                                  encoder_fingerprint, resolve_model_path)

__all__ = [
    'FrozenTextEncoder', 'encoder_fingerprint', 'detect_kind',
    'resolve_model_path', 'ClassTextBank', 'build_class_text_bank',
    'class_text_bank_key', 'TextBankCacheWarning', 'DEFAULT_CACHE_DIR'
]
