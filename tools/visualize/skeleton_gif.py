# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Animate a skeleton clip as a GIF, with a prediction beside it.

Draws the bones of the NTU RGB+D 25-joint layout for up to two persons,
the 3D coordinates projected to x-y (camera x right, y up) on axes fixed
over the clip. With a result of ``tools/demo.py --out-json`` the title is
the predicted action, a bar chart beside the skeleton shows the top-k
candidate probabilities and the generated description is written below.
``tools/demo.py --out-gif`` draws the same picture directly.

Inputs as for the demo: a PoseDataset ``.pkl`` (``--sample N``), an
``.npy`` of shape (M, T, 25, 3) or (T, 25, 3), or a raw NTU ``.skeleton``.

Example:
    python tools/visualize/skeleton_gif.py data/synth_ntu/synth_ntu_3d.pkl \
        clip.gif --sample 4 --result result.json --max-frames 48
"""
import argparse
import json
import os.path as osp
import textwrap
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.lines import Line2D
from vis_utils import (NTU_BONES, NTU_LEFT, NTU_RIGHT, NUM_JOINTS,
                       check_out_file, exit_on_error, import_tool)

MAX_PERSONS = 2
Colours = Tuple[str, str, str]  # trunk, left side, right side
PERSON_COLOURS: Tuple[Colours, ...] = (
    ('#333333', '#1f77b4', '#d62728'),
    ('#7f7f7f', '#17becf', '#ff7f0e'),
)


def as_clip(keypoint: np.ndarray) -> np.ndarray:
    """Check a skeleton array and bring it to (M, T, V, C).

    Args:
        keypoint (np.ndarray): Shape (M, T, 25, C) or (T, 25, C), C >= 2.

    Returns:
        np.ndarray: float32, shape (M, T, 25, C), M <= 2.

    Raises:
        ValueError: If the shape is wrong or there are more than two
            persons or no finite non-zero joint.
    """
    keypoint = np.asarray(keypoint, dtype=np.float32)
    if keypoint.ndim == 3:
        keypoint = keypoint[None]
    if (keypoint.ndim != 4 or keypoint.shape[2] != NUM_JOINTS
            or keypoint.shape[3] < 2 or keypoint.shape[1] == 0):
        raise ValueError(f'expected a skeleton clip of shape (M, T, '
                         f'{NUM_JOINTS}, 3) or (T, {NUM_JOINTS}, 3) with '
                         f'T >= 1, got shape {tuple(np.shape(keypoint))}')
    if keypoint.shape[0] > MAX_PERSONS:
        raise ValueError(f'expected at most {MAX_PERSONS} persons, got '
                         f'{keypoint.shape[0]} (shape {keypoint.shape})')
    if not (np.isfinite(keypoint) & (keypoint != 0)).any():
        raise ValueError('expected a skeleton, got no finite non-zero '
                         'coordinate')
    return keypoint


def frame_indices(num_frames: int, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` frames spread evenly over a clip.

    Args:
        num_frames (int): Frames of the clip.
        max_frames (int): Most frames to draw (>= 1).

    Returns:
        np.ndarray: Increasing frame indices, first and last included.
    """
    if num_frames <= max_frames:
        return np.arange(num_frames)
    return np.linspace(0, num_frames - 1, max_frames).round().astype(int)


def axis_limits(xy: np.ndarray,
                margin: float = 0.1) -> Tuple[Tuple[float, float], ...]:
    """Equal-scale x and y limits that hold every present joint.

    Args:
        xy (np.ndarray): Coordinates, shape (..., 2); all-zero joints
            (absent persons) and non-finite ones are ignored.
        margin (float): Extra room, as a fraction of the larger extent.
            Defaults to 0.1.

    Returns:
        tuple: ``((xmin, xmax), (ymin, ymax))``.
    """
    points = xy.reshape(-1, 2)
    points = points[np.isfinite(points).all(1) & (points != 0).any(1)]
    low, high = points.min(0), points.max(0)
    half = max((high - low).max() / 2 * (1 + margin), 1e-3)
    centre = (low + high) / 2
    return tuple((float(c - half), float(c + half)) for c in centre)


def _draw_bars(ax: plt.Axes, topk: Sequence[Tuple[str, float]]) -> None:
    """Horizontal top-k bars, the best at the top, names on the bars."""
    probs = np.array([float(p) for _, p in topk])
    rows = np.arange(len(probs))[::-1]  # the best at the top
    colours = ['#2ca02c'] + ['#c7c7c7'] * (len(probs) - 1)
    ax.barh(rows, probs, color=colours, height=0.8)
    for row, (name, prob) in zip(rows, topk):
        ax.text(0.01, row, name, va='center', fontsize=8)
        ax.text(
            0.99,
            row,
            f'{float(prob):.0%}',
            va='center',
            ha='right',
            fontsize=8)
    ax.set(xlim=(0, 1), ylim=(-0.6, len(probs) - 0.4), xticks=[], yticks=[])
    ax.set_title(
        f'top-{len(probs)} (probability over the candidates)', fontsize=9)
    ax.spines[['top', 'right', 'left']].set_visible(False)


def _layout(has_bars: bool, has_text: bool) -> Tuple[plt.Figure, List]:
    """The figure and its axes: skeleton, bars (or None), text (or None)."""
    width = 7.2 if has_bars else 3.6
    height = 4.4 if has_text else 3.8
    fig = plt.figure(figsize=(width, height))
    grid = fig.add_gridspec(
        2 if has_text else 1,
        2 if has_bars else 1,
        height_ratios=[3.3, 0.8] if has_text else None,
        width_ratios=[1, 1] if has_bars else None,
        left=0.02,
        right=0.98,
        top=0.88,
        bottom=0.02,
        wspace=0.08,
        hspace=0.05)
    axes = [fig.add_subplot(grid[0, 0])]
    axes.append(fig.add_subplot(grid[0, 1]) if has_bars else None)
    axes.append(fig.add_subplot(grid[1, :]) if has_text else None)
    return fig, axes


def _wrap(text: str, width: int, max_lines: int = 3) -> str:
    """Wrap text, cut with an ellipsis after ``max_lines`` lines."""
    lines = textwrap.wrap(' '.join(str(text).split()), width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:width - 3].rstrip() + '...'
    return '\n'.join(lines)


def _draw_description(ax: plt.Axes, text: str) -> None:
    """The description, wrapped, in an axes without frame."""
    ax.axis('off')
    ax.text(
        0, 1, _wrap(text, 100), va='top', fontsize=8, transform=ax.transAxes)


def _bone_colour(child: int, colours: Colours) -> str:
    """The colour of the bone ending at joint ``child``."""
    trunk, left, right = colours
    if child in NTU_LEFT:
        return left
    return right if child in NTU_RIGHT else trunk


def _person_artists(ax: plt.Axes, colours: Colours) -> Tuple[list, Line2D]:
    """One person's empty bone lines and joint markers."""
    bones = [
        ax.plot([], [], color=_bone_colour(child, colours), lw=2)[0]
        for child, _ in NTU_BONES
    ]
    return bones, ax.plot([], [], 'o', color=colours[0], ms=2.5)[0]


def _show_pose(bones: Sequence[Line2D], joints: Line2D,
               pose: np.ndarray) -> None:
    """Move one person's artists to a pose (V, 2); hide an absent one."""
    present = bool((pose != 0).any())
    for line, bone in zip(bones, NTU_BONES):
        line.set_data(pose[list(bone), 0], pose[list(bone), 1])
        line.set_visible(present)
    joints.set_data(pose[:, 0], pose[:, 1])
    joints.set_visible(present)


def draw_skeleton_gif(keypoint: np.ndarray,
                      out_file: str,
                      title: Optional[str] = None,
                      topk: Optional[Sequence[Tuple[str, float]]] = None,
                      description: Optional[str] = None,
                      caption: str = '',
                      max_frames: int = 48,
                      fps: float = 10.,
                      dpi: int = 72) -> int:
    """Write an animated GIF of a skeleton clip.

    Args:
        keypoint (np.ndarray): The clip, shape (M, T, 25, C) or (T, 25, C)
            in the NTU RGB+D joint order; x and y are drawn, all-zero
            persons (padding) are hidden.
        out_file (str): The ``.gif`` file to write.
        title (str, optional): Title above the skeleton (the predicted
            action). Defaults to None.
        topk (Sequence[tuple[str, float]], optional): ``(name,
            probability)`` pairs, best first, drawn as bars beside the
            skeleton. Defaults to None (no bars).
        description (str, optional): Text written below (the generated
            description), wrapped. Defaults to None.
        caption (str): Text before the frame counter under the skeleton
            (e.g. the clip's name). Defaults to ''.
        max_frames (int): Most frames to draw, spread over the clip.
            Defaults to 48.
        fps (float): Frames per second of the GIF. Defaults to 10.
        dpi (int): Resolution (a 7.2 x 4.2 inch figure). Defaults to 72.

    Returns:
        int: The number of frames drawn (the GIF's frame count).

    Raises:
        ValueError: On a bad clip, file name or ``max_frames``.

    Example:
        >>> import numpy as np
        >>> clip = np.random.default_rng(0).normal(size=(20, 25, 3))
        >>> draw_skeleton_gif(clip, '/tmp/clip.gif', title='clapping',
        ...                   topk=[('clapping', 0.7), ('salute', 0.3)],
        ...                   max_frames=8)
        8
    """
    check_out_file(out_file, ('.gif', ))
    if max_frames < 1:
        raise ValueError(f'max_frames must be at least 1, got {max_frames}')
    clip = as_clip(keypoint)
    frames = frame_indices(clip.shape[1], max_frames)
    xy = clip[:, frames, :, :2]  # (M, F, V, 2)
    fig, (ax, bar_ax, text_ax) = _layout(bool(topk), bool(description))
    xlim, ylim = axis_limits(xy)
    ax.set(xlim=xlim, ylim=ylim, xticks=[], yticks=[], aspect='equal')
    if title:
        fig.suptitle(title, x=0.02, ha='left', fontsize=11, fontweight='bold')
    if topk:
        _draw_bars(bar_ax, topk)
    if description:
        _draw_description(text_ax, description)
    people = [
        _person_artists(ax, colours) for colours in PERSON_COLOURS[:len(clip)]
    ]
    counter = ax.text(0.02, 0.02, '', transform=ax.transAxes, fontsize=7)

    def update(i: int) -> list:
        for (bones, joints), pose in zip(people, xy[:, i]):
            _show_pose(bones, joints, pose)
        counter.set_text(f'{caption}  frame {frames[i] + 1}/'
                         f'{clip.shape[1]}'.strip())
        return [counter]

    anim = FuncAnimation(fig, update, frames=len(frames), blit=False)
    try:
        anim.save(out_file, writer=PillowWriter(fps=fps), dpi=dpi)
    finally:
        plt.close(fig)
    return len(frames)


def result_fields(result: Dict) -> Dict:
    """Title, top-k and description from a ``tools/demo.py`` result.

    Args:
        result (dict): As written by ``tools/demo.py --out-json``.

    Returns:
        dict: ``title``, ``topk`` and ``description`` for
        :func:`draw_skeleton_gif`.

    Raises:
        ValueError: If ``action`` or ``topk`` is missing.
    """
    if not isinstance(result, dict) or not {'action', 'topk'} <= set(result):
        raise ValueError("expected a tools/demo.py result with 'action' and "
                         "'topk'")
    return dict(
        title=f'predicted: {result["action"]}',
        topk=[(r['name'], r['prob']) for r in result['topk']],
        description=result.get('description'))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None
            (``sys.argv[1:]``).

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Animate a skeleton clip as a GIF')
    parser.add_argument(
        'input', help='a PoseDataset .pkl, an .npy or a raw NTU .skeleton')
    parser.add_argument('out', help='the .gif file to write')
    parser.add_argument(
        '--sample',
        type=int,
        default=0,
        help='annotation index of a .pkl input (default: 0)')
    parser.add_argument(
        '--result',
        help='a tools/demo.py --out-json file: title, top-k bars and '
        'description')
    parser.add_argument('--title', help='title (overrides --result)')
    parser.add_argument(
        '--max-frames',
        type=int,
        default=48,
        help='most frames to draw (default: 48)')
    parser.add_argument(
        '--fps', type=float, default=10, help='GIF frame rate (default: 10)')
    parser.add_argument(
        '--dpi', type=int, default=72, help='resolution (default: 72)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the script.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        int: The number of frames written.

    Raises:
        ValueError: On a bad input, result file or output name.
    """
    args = parse_args(argv)
    check_out_file(args.out, ('.gif', ))
    fields = dict(title=None, topk=None, description=None)
    if args.result:
        if not osp.isfile(args.result):
            raise ValueError(f'{args.result}: file does not exist')
        with open(args.result, encoding='utf-8') as f:
            fields = result_fields(json.load(f))
    if args.title:
        fields['title'] = args.title
    keypoint, info = import_tool('demo.py').load_input(args.input, args.sample)
    caption = str(info.get('frame_dir', osp.basename(args.input)))
    count = draw_skeleton_gif(
        keypoint,
        args.out,
        caption=caption,
        max_frames=args.max_frames,
        fps=args.fps,
        dpi=args.dpi,
        **fields)
    print(f'wrote {args.out} ({count} frames)')
    return count


if __name__ == '__main__':
    exit_on_error(main)
