# Copyright (c) mmaction-sugar contributors. All rights reserved.
r"""Recognise and describe the action of one skeleton sequence.

A command-line demo of a trained SUGAR stage-3 recognizer
(:class:`~mmaction_sugar.models.SugarRecognizer`): it reads one skeleton
sequence, runs the config's test pipeline and the model, and prints the
recognised action, the top-k candidates (the exact log-likelihood of each
candidate name and its softmax probability over the candidates) and the
description the LLM generates.

The input is one of:

- a PoseDataset annotation pickle (``.pkl``): a dict whose
  ``'annotations'`` list holds dicts with ``'keypoint'`` (M, T, V, C);
  ``--sample N`` picks one (default 0). Pickles can run code when they are
  loaded: only pass files you trust;
- a numpy array (``.npy``) of shape (M, T, 25, 3) or (T, 25, 3), in
  metres (NTU RGB+D camera space);
- a raw NTU RGB+D ``.skeleton`` file.

Examples:
    # recognise the fifth sample of an annotation file
    CONFIG=configs/sugar/sugar-stage3_stgcn-tqp-smollm2_1xb16-joint-u32-\
1e_synthntu-xsub-keypoint-3d.py
    python tools/demo.py $CONFIG work_dirs/stage3/best_acc_top1_epoch_1.pth \
        data/synth_ntu/synth_ntu_3d.pkl --sample 4

    # a multi-stage config uses its last stage; open-vocabulary candidates
    python tools/demo.py configs/sugar_synthntu.py CHECKPOINT \
        S001C001P001R001A010.skeleton \
        --candidates "clapping,hand waving,jump up" --topk 3

    # an array, no generation, results also written as JSON
    python tools/demo.py CONFIG CHECKPOINT clip.npy --no-generate \
        --out-json result.json

    # candidates from a file (one class name per line)
    python tools/demo.py CONFIG CHECKPOINT clip.npy --candidates names.txt

    # also draw the clip with the prediction as an animated GIF
    python tools/demo.py CONFIG CHECKPOINT clip.npy --out-gif clip.gif

Progress goes to stderr, one line per slow step with its time (``[demo]
loading the LLM (smollm2-135m-instruct) and building SugarRecognizer ...
done (3.1 s)``). A wrong input (a missing file, an unknown extension, a
wrong array shape, a truncated ``.skeleton``), a checkpoint that does not
match the config, or a candidate list the model does not know ends the
demo with one line ``error: <file>: <what was expected>`` on stderr and
exit status 2, without a traceback.
"""
import argparse
import contextlib
import json
import logging
import math
import os.path as osp
import pickle
import re
import sys
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

NUM_JOINTS = 25
NUM_COORDS = 3
MAX_PERSONS = 2  # PreNormalize3D and FormatGCNInput: at most two bodies
IMG_SHAPE = (1080, 1920)
INPUT_SUFFIXES = ('.pkl', '.npz', '.npy', '.skeleton')
VIS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'visualize')


class DemoError(ValueError):
    """A wrong input, config or checkpoint: the demo stops with one line.

    :func:`main` prints ``error: <message>`` to stderr and exits with
    status 2, without a traceback.
    """


_open_step: List[str] = []  # a step line written without its end yet


def log(message: str) -> None:
    """Print a progress line to stderr.

    Args:
        message (str): The line, without the ``[demo]`` prefix.
    """
    if _open_step:  # end the open step line first
        print(file=sys.stderr)
        _open_step.clear()
    print(f'[demo] {message}', file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(message: str) -> Iterator[None]:
    """Log ``[demo] message ... done (1.2 s)`` around a slow step.

    The line starts when the step does and ends with ``done (time)``, or
    ``failed`` if the step raises; when :func:`log` writes in between,
    the whole line is written again at the end.

    Args:
        message (str): What the step does, e.g. ``'loading the LLM'``.
    """
    start = time.perf_counter()
    print(f'[demo] {message} ...', end='', file=sys.stderr, flush=True)
    _open_step[:] = [message]
    outcome = 'failed'
    try:
        yield
        outcome = f'done ({time.perf_counter() - start:.1f} s)'
    finally:
        head = ' ' if _open_step else f'[demo] {message} ... '
        _open_step.clear()
        print(head + outcome, file=sys.stderr, flush=True)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments, without the program
            name. Defaults to None (``sys.argv[1:]``).

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Recognise and describe the action of one skeleton '
        'sequence with a SUGAR stage-3 recognizer')
    parser.add_argument(
        'config',
        help='stage-3 config, or a multi-stage config (its last '
        'stage is used)')
    parser.add_argument('checkpoint', help='stage-3 checkpoint (.pth)')
    parser.add_argument(
        'input',
        help='skeletons: a PoseDataset .pkl, an .npy of shape (M, T, 25, 3) '
        'or (T, 25, 3), or a raw NTU .skeleton file')
    parser.add_argument(
        '--sample',
        type=int,
        default=0,
        help='index of the annotation in a .pkl input (default: 0)')
    parser.add_argument(
        '--candidates',
        help='candidate class names (open vocabulary): a text file with '
        'one name per line, or a comma-separated list; default: all '
        "classes of the head's test list")
    parser.add_argument(
        '--topk',
        type=int,
        default=5,
        help='number of candidates to list (default: 5)')
    parser.add_argument(
        '--device', default='cpu', help="torch device (default: 'cpu')")
    parser.add_argument(
        '--no-generate',
        action='store_true',
        help='only score the candidates, do not generate a description')
    parser.add_argument(
        '--out-json', help='also write the results to this JSON file')
    parser.add_argument(
        '--out-gif',
        help='also draw the clip (at most 48 frames spread over it), the '
        'top-k and the description as an animated GIF '
        '(tools/visualize/skeleton_gif.py)')
    args = parser.parse_args(argv)
    if args.topk < 1:
        parser.error(f'--topk must be at least 1, got {args.topk}')
    if args.sample < 0:
        parser.error(f'--sample must be >= 0, got {args.sample}')
    return args


# ----------------------------------------------------------------------
# input
def check_keypoint(keypoint: np.ndarray, where: str) -> np.ndarray:
    """Check a skeleton array and bring it to (M, T, V, C) float32.

    Args:
        keypoint (np.ndarray): Shape (M, T, 25, 3) or (T, 25, 3).
        where (str): The file (and field) for error messages.

    Returns:
        np.ndarray: The coordinates, float32, shape (M, T, 25, 3).

    Raises:
        DemoError: If the shape, the dtype or the values are wrong.
    """
    if not isinstance(keypoint, np.ndarray):
        raise DemoError(f'{where}: expected a numpy array of shape '
                        f'(M, T, {NUM_JOINTS}, {NUM_COORDS}), got '
                        f'{type(keypoint).__name__}')
    expected = (f'shape (M, T, {NUM_JOINTS}, {NUM_COORDS}) or '
                f'(T, {NUM_JOINTS}, {NUM_COORDS})')
    shape = tuple(keypoint.shape)
    if keypoint.ndim == 3:
        keypoint = keypoint[None]
    if keypoint.ndim != 4 or keypoint.shape[2:] != (NUM_JOINTS, NUM_COORDS):
        raise DemoError(f'{where}: expected {expected} (persons, frames, '
                        f'NTU joints, x/y/z), got shape {shape}')
    if not (np.issubdtype(keypoint.dtype, np.floating)
            or np.issubdtype(keypoint.dtype, np.integer)):
        raise DemoError(f'{where}: expected numeric coordinates, got '
                        f'dtype {keypoint.dtype}')
    num_persons, num_frames = keypoint.shape[:2]
    if num_frames == 0:
        raise DemoError(f'{where}: expected at least one frame, got '
                        f'0 frames (shape {shape})')
    if not 1 <= num_persons <= MAX_PERSONS:
        raise DemoError(f'{where}: expected 1 to {MAX_PERSONS} persons '
                        f'(M), got M={num_persons} (shape {shape})')
    keypoint = keypoint.astype(np.float32)
    finite = np.isfinite(keypoint)
    if not finite.all():
        m, t, v, c = np.argwhere(~finite)[0]
        raise DemoError(
            f'{where}: expected finite coordinates, got '
            f'{int((~finite).sum())} NaN/inf values (first: person {m}, '
            f'frame {t}, joint {v}, {"xyz"[c]}={keypoint[m, t, v, c]})')
    if not keypoint.any():
        raise DemoError(f'{where}: expected a skeleton, got only zero '
                        'coordinates')
    return keypoint


def _load_npy(path: str) -> np.ndarray:
    """Read an ``.npy`` array without allowing pickled objects."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DemoError(f'{path}: expected a numpy .npy array of shape '
                        f'(M, T, {NUM_JOINTS}, {NUM_COORDS}) or '
                        f'(T, {NUM_JOINTS}, {NUM_COORDS}), could not '
                        f'read it: {_one_line(err)}') from None


def _load_annotations(path: str, sample: int) -> Tuple[np.ndarray, Dict]:
    """Read one annotation of a PoseDataset pickle or a pickle-free
    ``.npz`` annotation file.

    Returns:
        tuple: The keypoints and a dict with the annotation's
        ``frame_dir`` and ``label`` (those present).
    """
    if path.lower().endswith('.npz'):
        from mmaction_sugar.datasets import (AnnotationError,
                                             load_annotations_npz)
        try:
            data = load_annotations_npz(path)
        except AnnotationError as err:
            raise DemoError(_one_line(err)) from None
        return _pick_annotation(data, path, sample)
    log(f'warning: {path} is a pickle, which can run code when it is '
        'loaded: only use files you trust (or convert it once with '
        'tools/data/pkl_to_npz.py)')
    try:
        with open(path, 'rb') as f:
            data = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, ImportError, IndexError, OSError) as err:
        raise DemoError(f'{path}: expected a PoseDataset annotation '
                        f'pickle, could not read it: '
                        f'{_one_line(err)}') from None
    return _pick_annotation(data, path, sample)


def _pick_annotation(data, path: str, sample: int) -> Tuple[np.ndarray, Dict]:
    """Check the loaded annotations and return sample ``sample``."""
    if not isinstance(data, dict) or not isinstance(
            data.get('annotations'), (list, tuple)):
        got = (f'a dict with keys {sorted(map(str, data))}' if isinstance(
            data, dict) else type(data).__name__)
        raise DemoError(f"{path}: expected a dict with an 'annotations' "
                        f'list (PoseDataset format), got {got}')
    annotations = data['annotations']
    if not annotations:
        raise DemoError(f"{path}: expected at least one annotation, got "
                        "an empty 'annotations' list")
    if sample >= len(annotations):
        raise DemoError(f'{path}: --sample {sample} is out of range: '
                        f'expected 0 to {len(annotations) - 1} '
                        f'({len(annotations)} annotations)')
    ann = annotations[sample]
    where = f'{path}: annotations[{sample}]'
    if not isinstance(ann, dict) or 'keypoint' not in ann:
        raise DemoError(f"{where}: expected a dict with a 'keypoint' "
                        f'array, got {type(ann).__name__}' +
                        (f' with keys {sorted(map(str, ann))}' if isinstance(
                            ann, dict) else ''))
    keypoint = check_keypoint(ann['keypoint'], f"{where}['keypoint']")
    total = ann.get('total_frames', keypoint.shape[1])
    if total != keypoint.shape[1]:
        raise DemoError(f"{where}: expected 'total_frames' to equal the "
                        f"frames of 'keypoint' ({keypoint.shape[1]}), got "
                        f'{total!r}')
    info = {k: ann[k] for k in ('frame_dir', 'label') if k in ann}
    return keypoint, info


def _load_skeleton(path: str) -> np.ndarray:
    """Read a raw NTU ``.skeleton`` file (at most two bodies)."""
    from mmaction_sugar.datasets.ntu_raw import read_ntu_skeleton
    try:
        return read_ntu_skeleton(path, max_persons=MAX_PERSONS)
    except (ValueError, OSError) as err:  # NTUSkeletonError names the file
        message = _one_line(err)
        if path not in message:
            message = f'{path}: {message}'
        raise DemoError(message) from None


def load_input(path: str, sample: int = 0) -> Tuple[np.ndarray, Dict]:
    """Read the skeletons of one sequence.

    Args:
        path (str): A ``.pkl`` or ``.npz`` annotation file, an ``.npy``
            array or a raw NTU ``.skeleton`` file.
        sample (int): The annotation of a ``.pkl``/``.npz`` file.
            Defaults to 0.

    Returns:
        tuple: The coordinates (np.ndarray float32, shape (M, T, 25, 3))
        and a dict describing the input (``path``, ``format``, and for a
        pickle ``sample``, ``frame_dir`` and ``label``).

    Raises:
        DemoError: With a one-line message naming the file and what was
            expected, if the input is missing or malformed.
    """
    suffix = osp.splitext(path)[1].lower()
    if suffix not in INPUT_SUFFIXES:
        raise DemoError(f'{path}: expected a .pkl or .npz (PoseDataset '
                        'annotations), .npy (M, T, 25, 3) or .skeleton '
                        f'(raw NTU) file, got the extension '
                        f'{suffix or "(none)"!r}')
    if not osp.isfile(path):
        raise DemoError(f'{path}: input file does not exist')
    info = dict(path=path, format=suffix[1:])
    if suffix in ('.pkl', '.npz'):
        keypoint, extra = _load_annotations(path, sample)
        info.update(sample=sample, **extra)
    elif suffix == '.npy':
        keypoint = check_keypoint(_load_npy(path), path)
    else:
        keypoint = check_keypoint(_load_skeleton(path), path)
    return keypoint, info


def read_candidate_arg(value: str) -> List[str]:
    """The class names of ``--candidates``.

    Args:
        value (str): A text file (one name per line, ``#`` comments) or a
            comma-separated list of names.

    Returns:
        list[str]: The names, in order.

    Raises:
        ValueError: If the file is missing or empty, or no name is given.
    """
    from mmaction_sugar.models.heads.llm_head import read_candidates
    if osp.isfile(value):
        return read_candidates(value)
    if ',' not in value and value.endswith('.txt'):
        raise ValueError(f'candidate list {value!r} does not exist')
    names = [n.strip() for n in value.split(',')]
    if not any(names):
        raise ValueError(f'--candidates {value!r} names no class')
    return [n for n in names if n]


# ----------------------------------------------------------------------
# model
def load_config(path: str):
    """Load a stage-3 config (the last stage of a multi-stage one).

    Args:
        path (str): The config file.

    Returns:
        mmengine.config.Config: The config of the recognizer.

    Raises:
        DemoError: If the file is missing or not a usable config.
    """
    from mmengine.config import Config

    from mmaction_sugar.apis import is_multi_stage, stage_config, stage_list
    if not osp.isfile(path):
        raise DemoError(f'{path}: config file does not exist')
    try:
        cfg = Config.fromfile(path)
        if is_multi_stage(cfg):
            last = stage_list(cfg)[-1]
            log(f'multi-stage config: using its last stage {last["name"]!r}')
            cfg = stage_config(cfg, last)
    except (ValueError, OSError, SyntaxError, KeyError) as err:
        raise DemoError(f'{path}: cannot load the config: '
                        f'{_one_line(err)}') from None
    if 'model' not in cfg or 'cls_head' not in cfg.model:
        raise DemoError(f'{path}: expected a recognizer config with '
                        'model.cls_head (a SUGAR stage-3 config)')
    return cfg


def test_pipeline_config(cfg, path: str) -> list:
    """The test (else val) pipeline of a config.

    Args:
        cfg (mmengine.config.Config): The config.
        path (str): The config file, for error messages.

    Returns:
        list[dict]: The transform configs.
    """
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = cfg.get(loader, {}).get('dataset', {})
        while 'pipeline' not in dataset and 'dataset' in dataset:
            dataset = dataset['dataset']  # RepeatDataset and the like
        if dataset.get('pipeline'):
            return list(dataset['pipeline'])
    raise DemoError(f'{path}: expected test_dataloader.dataset.pipeline '
                    '(or val_dataloader.dataset.pipeline)')


_LLM_KEY = re.compile(r'(^|\.)llm\.')


def read_checkpoint(checkpoint: str) -> Dict:
    """Read the weights of an mmengine checkpoint (``weights_only``).

    Args:
        checkpoint (str): The ``.pth`` file.

    Returns:
        dict: Weight name (without a ``module.`` prefix) to tensor.

    Raises:
        DemoError: If the file is missing or not an mmengine checkpoint.
    """
    import torch
    from mmengine.runner import CheckpointLoader
    if not osp.isfile(checkpoint):
        raise DemoError(f'{checkpoint}: checkpoint file does not exist')
    try:  # torch.load(weights_only=True) with the plugin's allow-list
        ckpt = CheckpointLoader.load_checkpoint(
            checkpoint, map_location='cpu', logger=_quiet_logger())
    except Exception as err:  # torch.load / unpickling errors vary
        raise DemoError(f'{checkpoint}: expected an mmengine checkpoint '
                        f'(.pth), cannot load it: {_one_line(err)}') from None
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise DemoError(f'{checkpoint}: expected an mmengine checkpoint '
                        "(a dict of tensors under 'state_dict'), got "
                        f'{type(ckpt).__name__}')
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def check_weights(state: Dict, model, checkpoint: str) -> List[str]:
    """Check that a checkpoint's weights belong to the model.

    Args:
        state (dict): The checkpoint's weights (:func:`read_checkpoint`).
        model (torch.nn.Module): The recognizer built from the config.
        checkpoint (str): The file, for messages.

    Returns:
        list[str]: The model weights the checkpoint lacks (they keep
        their initialisation; a warning names them).

    Raises:
        DemoError: If no weight of the checkpoint is a weight of the model
            or a weight's shape differs (a checkpoint of another config).
    """
    own = {
        k: v
        for k, v in model.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    shared = [k for k in state if k in own]
    if not shared:
        raise DemoError(
            f'{checkpoint}: does not match the config: none of '
            f'its {len(state)} weight(s) (e.g. {next(iter(state))})'
            f' is a weight of the {type(model).__name__}')
    wrong = [k for k in shared if state[k].shape != own[k].shape]
    if wrong:
        k = wrong[0]
        raise DemoError(
            f'{checkpoint}: does not match the config: {len(wrong)} '
            f'weight(s) differ in shape, e.g. {k}: {tuple(state[k].shape)} '
            f'in the checkpoint, {tuple(own[k].shape)} in the model')
    return _report_partial(state, own, checkpoint)


def _report_partial(state: Dict, own: Dict, checkpoint: str) -> List[str]:
    """Warn about weights only one side has; return the missing ones."""
    extra = [
        k for k in state
        if k not in own and not k.endswith('num_batches_tracked')
    ]
    if extra:
        log(f'warning: {checkpoint} has {len(extra)} weights the model does '
            f'not use (ignored), e.g. {extra[0]}')
    missing = [k for k in own if k not in state]
    lora = [k for k in missing if _LLM_KEY.search(k)]
    other = [k for k in missing if not _LLM_KEY.search(k)]
    if other:
        shown = ', '.join(other[:5]) + (', ...' if len(other) > 5 else '')
        log(f'warning: {checkpoint} lacks {len(other)} non-LLM weights '
            f'(left at their random initialisation): {shown}')
    if lora:
        log(f'warning: {checkpoint} lacks {len(lora)} trainable LLM '
            f'(LoRA) weights, e.g. {lora[0]}')
    return missing


def _quiet_logger() -> logging.Logger:
    """A logger for mmengine's checkpoint messages that prints nothing
    (:func:`check_weights` reports what matters)."""
    quiet = logging.getLogger('mmaction_sugar.tools.demo')
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    return quiet


def _llm_name(cfg) -> str:
    """The LLM of a config, for progress lines."""
    llm = cfg.model.get('cls_head', {}).get('llm', {})
    return str(llm.get('path') or 'a random LLM from its config')


def load_model(cfg, checkpoint: str, device: str):
    """Build the recognizer and load a checkpoint (no training).

    The frozen LLM weights come from the config's LLM path; the checkpoint
    holds the encoder, the neck and the LoRA weights.

    Args:
        cfg (mmengine.config.Config): The recognizer config.
        checkpoint (str): The stage-3 checkpoint.
        device (str): The torch device.

    Returns:
        tuple: The model (eval mode, on ``device``) and the list of model
        weights the checkpoint lacks (should be empty).

    Raises:
        DemoError: On a missing or foreign checkpoint or a bad device.
    """
    import torch
    from mmaction.registry import MODELS
    from mmengine.runner import load_state_dict

    try:
        device = torch.device(device)
    except RuntimeError as err:
        raise DemoError(f'--device {device!r}: {_one_line(err)}') from None
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise DemoError(f'--device {device}: CUDA is not available here')
    with step(f'reading {checkpoint}'):
        state = read_checkpoint(checkpoint)
    cfg.model.encoder_checkpoint = None  # the checkpoint holds the encoder
    with step(f'loading the LLM ({_llm_name(cfg)}) and building '
              f'{cfg.model.get("type", "the model")}'):
        model = MODELS.build(cfg.model)
    missing = check_weights(state, model, checkpoint)
    with step(f'loading the weights onto {device}'):
        load_state_dict(model, state, strict=False, logger=_quiet_logger())
        model.to(device)
        model.eval()
    return model, missing


def build_pipeline(pipeline_cfg: list):
    """Build the transforms of a pipeline config.

    Args:
        pipeline_cfg (list[dict]): Transform configs of mmaction's
            ``TRANSFORMS`` registry.

    Returns:
        mmengine.dataset.Compose: The pipeline.
    """
    from mmengine.dataset import Compose
    return Compose(pipeline_cfg)


def predict(model, pipeline, keypoint: np.ndarray):
    """Run the pipeline and the model on one sequence.

    Args:
        model (torch.nn.Module): The recognizer, in eval mode.
        pipeline (Callable): The test pipeline.
        keypoint (np.ndarray): Shape (M, T, V, C), float32.

    Returns:
        ActionDataSample: The prediction (``pred_score`` over all classes,
        non-candidates -1e4; ``pred_text*`` when generating).
    """
    import torch
    from mmengine.dataset import pseudo_collate
    results = dict(
        keypoint=keypoint,
        total_frames=keypoint.shape[1],
        img_shape=IMG_SHAPE,
        original_shape=IMG_SHAPE,
        start_index=0,
        modality='Pose',
        label=-1)
    packed = pipeline(results)
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate([packed]), False)
        return model(**data, mode='predict')[0]


def summarise(sample, head, topk: int) -> Dict:
    """Turn a prediction into the printed / JSON result.

    The candidates are the head's current test classes (the entries of
    ``pred_score`` above -1e3); their scores are the log-likelihoods of
    the names and their probabilities a softmax over the candidates.

    Args:
        sample (ActionDataSample): The prediction.
        head (LLMHead): The model's head.
        topk (int): How many candidates to list.

    Returns:
        dict: ``action``, ``label``, ``num_candidates``, ``topk`` (list of
        dicts with ``rank``, ``name``, ``label``, ``score``, ``prob``) and
        ``description``, ``description_label``, ``description_action``,
        ``description_match`` (None without generation) and
        ``action_sentence`` (LLM-AR's code words; None for SUGAR).
    """
    import torch
    scores = sample.pred_score.detach().float().cpu()
    candidates = head.test_index.cpu()
    cand_scores = scores[candidates]
    probs = torch.softmax(cand_scores, 0)
    order = torch.argsort(cand_scores, descending=True)[:topk]
    names = head.class_names
    label = int(sample.pred_label.view(-1)[0])
    rows = []
    for rank, i in enumerate(order.tolist(), 1):
        c = int(candidates[i])
        rows.append(
            dict(
                rank=rank,
                name=names[c],
                label=c,
                score=float(cand_scores[i]),
                prob=float(probs[i])))
    out = dict(
        action=names[label],
        label=label,
        num_candidates=len(candidates),
        topk=rows,
        description=None,
        description_label=None,
        description_action=None,
        description_match=None,
        action_sentence=(str(sample.action_sentence)
                         if 'action_sentence' in sample else None))
    if 'pred_text' in sample:
        text_label = int(sample.pred_text_label)
        out.update(
            description=str(sample.pred_text),
            description_label=text_label,
            description_action=names[text_label],
            description_match=str(sample.pred_text_match))
    return out


def format_result(result: Dict) -> str:
    """The human-readable report.

    Args:
        result (dict): See :func:`summarise`.

    Returns:
        str: Lines for stdout.
    """
    lines = [f'action: {result["action"]}']
    if result.get('action_sentence'):
        lines.append(f'action sentence: {result["action_sentence"]}')
    width = max(len('name'), *(len(r['name']) for r in result['topk']))
    lines.append(f'top-{len(result["topk"])} of {result["num_candidates"]} '
                 'candidates (score: log-likelihood of the name; prob: '
                 'softmax over the candidates):')
    lines.append(f'  {"rank":>4}  {"name":<{width}}  {"score":>10}  '
                 f'{"prob":>7}')
    for r in result['topk']:
        lines.append(f'  {r["rank"]:>4}  {r["name"]:<{width}}  '
                     f'{r["score"]:>10.3f}  {r["prob"]:>7.2%}')
    if result['description'] is None:
        lines.append('description: (not generated: --no-generate)')
    else:
        lines.append(f'description: {result["description"]}')
        lines.append(f'description names: {result["description_action"]} '
                     f'(match: {result["description_match"]})')
    return '\n'.join(lines)


def _one_line(err: BaseException) -> str:
    """An exception's message on one line."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else err
    text = ' '.join(str(text).split())
    return text or type(err).__name__


def _json_safe(value):
    """Make annotation values (numpy scalars, NaN) JSON-serialisable."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def check_out_files(args: argparse.Namespace) -> None:
    """Check ``--out-json`` and ``--out-gif`` before any work is done.

    Args:
        args (argparse.Namespace): The parsed arguments.

    Raises:
        DemoError: If a folder does not exist or the GIF name does not
            end in ``.gif``.
    """
    outputs = (('--out-json', args.out_json), ('--out-gif', args.out_gif))
    for option, path in outputs:
        if path and not osp.isdir(osp.dirname(osp.abspath(path))):
            raise DemoError(f'{path}: the folder of {option} does not exist')
    if args.out_gif and not args.out_gif.lower().endswith('.gif'):
        raise DemoError(f'{args.out_gif}: expected a .gif file for '
                        '--out-gif')


def write_gif(path: str, keypoint: np.ndarray, result: Dict) -> int:
    """Draw the clip with its prediction (``tools/visualize``).

    Args:
        path (str): The ``.gif`` file.
        keypoint (np.ndarray): The clip, shape (M, T, 25, 3).
        result (dict): The demo's result (:func:`summarise` and
            ``input``).

    Returns:
        int: The number of frames drawn.
    """
    if VIS_DIR not in sys.path:
        sys.path.insert(0, VIS_DIR)
    from skeleton_gif import draw_skeleton_gif, result_fields
    info = result['input']
    caption = str(info.get('frame_dir') or osp.basename(info['path']))
    return draw_skeleton_gif(
        keypoint, path, caption=caption, **result_fields(result))


def load_recognizer(args: argparse.Namespace, candidates: Optional[List[str]]):
    """Load the config, the model and the test pipeline.

    Args:
        args (argparse.Namespace): The parsed arguments.
        candidates (list[str], optional): Candidate class names, None for
            the head's test classes.

    Returns:
        tuple: The model (eval mode), its test pipeline and the list of
        weights the checkpoint lacks.
    """
    with step('importing torch, MMAction2 and the plugin'):
        from mmengine.registry import init_default_scope

        # compat fixes and the plugin's modules, before any model is built
        import mmaction_sugar  # noqa: F401
        init_default_scope('mmaction')
    cfg = load_config(args.config)
    pipeline_cfg = test_pipeline_config(cfg, args.config)
    model, missing = load_model(cfg, args.checkpoint, args.device)
    head = model.cls_head
    for attr in ('class_names', 'set_test_classes', 'test_index'):
        if not hasattr(head, attr):
            raise DemoError(f'{args.config}: expected an LLMHead as '
                            f'model.cls_head, got {type(head).__name__}')
    if candidates is not None:
        try:
            head.set_test_classes(candidates)
        except (ValueError, KeyError) as err:
            raise DemoError(f'--candidates: {_one_line(err)}') from None
    head.generate = not args.no_generate
    if head.score_search == 'topk':
        # the top-k search keeps search_topk names exact: all printed ones
        head.search_topk = max(head.search_topk, args.topk)
    return model, build_pipeline(pipeline_cfg), missing


def run(args: argparse.Namespace) -> Dict:
    """Recognise (and describe) the input of parsed arguments.

    Args:
        args (argparse.Namespace): See :func:`parse_args`.

    Returns:
        dict: The result (as written by ``--out-json``).

    Raises:
        DemoError: On a wrong input, config, checkpoint or option.
    """
    keypoint, info = load_input(args.input, args.sample)
    log(f'input: {args.input}: {keypoint.shape[0]} person(s), '
        f'{keypoint.shape[1]} frames')
    candidates = None
    if args.candidates is not None:
        try:
            candidates = read_candidate_arg(args.candidates)
        except ValueError as err:
            raise DemoError(_one_line(err)) from None
    check_out_files(args)
    model, pipeline, missing = load_recognizer(args, candidates)
    with step('recognising' + ('' if args.no_generate else ' and describing')):
        try:
            sample = predict(model, pipeline, keypoint)
        except (ValueError, AssertionError, IndexError) as err:
            raise DemoError(f'{args.input}: the test pipeline or the model '
                            f'rejected the input: {_one_line(err)}') from None
    info = {k: _json_safe(v) for k, v in info.items()}
    result = dict(
        input=info,
        config=args.config,
        checkpoint=args.checkpoint,
        missing_keys=missing,
        **summarise(sample, model.cls_head, args.topk))
    print(format_result(result))
    if args.out_json:
        with open(args.out_json, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=2)
        log(f'wrote {args.out_json}')
    if args.out_gif:
        with step(f'drawing {args.out_gif}'):
            write_gif(args.out_gif, keypoint, result)
    return result


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    """Run the demo.

    Args:
        argv (Sequence[str], optional): The command-line arguments, without
            the program name. Defaults to None (``sys.argv[1:]``).

    Returns:
        dict: The result (as written by ``--out-json``).

    Raises:
        SystemExit: Status 2 after a one-line ``error: ...`` on stderr for
            a wrong input, config, checkpoint or option (no traceback).
    """
    args = parse_args(argv)
    try:
        return run(args)
    except DemoError as err:
        print(f'error: {_one_line(err)}', file=sys.stderr, flush=True)
        raise SystemExit(2) from None


if __name__ == '__main__':
    main()
