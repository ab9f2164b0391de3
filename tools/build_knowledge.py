# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Write SUGAR's action knowledge with local models (stage 1).

Subcommands (see ``--help`` of each):

- ``motion``: an LLM writes the body-part motion texts and summaries::

    python tools/build_knowledge.py motion --classes classes.txt \\
        --out work_dirs/knowledge/mine.json
    python tools/build_knowledge.py motion --knowledge ntu120 \\
        --model /path/to/hf_model --fallback knowledge \\
        --out work_dirs/knowledge/ntu120_motion.json

- ``visual``: a vision-language model writes the visual texts from the
  most dissimilar frames (under an image encoder) of each class's videos,
  listed in a CSV with the header ``class_name,video``::

    python tools/build_knowledge.py visual \\
        --knowledge work_dirs/knowledge/mine.json --videos videos.csv \\
        --vlm /path/to/vlm --image-encoder /path/to/clip \\
        --out work_dirs/knowledge/mine_visual.json

Runs are resumable: finished classes go to ``OUT.partial.jsonl``; rerun
the same command to go on, or pass ``--overwrite`` to start over. A class
that stays unusable after the retries is reported in ``OUT.report.json``
and the command exits with status 1 without writing ``OUT``, unless
``--fallback knowledge`` keeps its old texts. Models are only read from
local folders (nothing is downloaded).
"""
import argparse
import os
import sys

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

from mmaction_sugar.datasets import knowledge_builder as kb  # noqa: E402
from mmaction_sugar.datasets.action_knowledge import (  # noqa: E402
    ActionKnowledge, KnowledgeError)


def add_common(parser: argparse.ArgumentParser, max_new_tokens: int) -> None:
    """Add the options that both subcommands take."""
    parser.add_argument(
        '--out', required=True, help='the knowledge JSON file to write')
    parser.add_argument(
        '--dataset',
        help="the file's dataset name (default: the input's, "
        'else the name of --out)')
    parser.add_argument(
        '--description',
        help="the file's description (default: says how "
        'it was made)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=4,
        help='classes per batch and prompts per generate call (default 4)')
    parser.add_argument(
        '--max-new-tokens',
        type=int,
        default=max_new_tokens,
        help=f'token cap of an answer (default {max_new_tokens})')
    parser.add_argument(
        '--max-retries',
        type=int,
        default=2,
        help='repairs / extra attempts per unusable text (default 2)')
    parser.add_argument(
        '--fallback',
        choices=('none', 'knowledge'),
        default='none',
        help='what to do with a class still unusable after the retries: '
        "'none' (default) reports it and writes no file; 'knowledge' keeps "
        'its old text from --knowledge for that field and reports it')
    parser.add_argument(
        '--device', default='cpu', help="torch device (default 'cpu')")
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of sampled retries')
    parser.add_argument(
        '--threads',
        type=int,
        help="torch CPU threads (default: torch's; "
        'on a busy machine 1 can be much faster than oversubscribing)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='discard earlier progress and replace --out')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Write SUGAR action knowledge with local models.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 1)[1])
    commands = parser.add_subparsers(dest='command', required=True)

    motion = commands.add_parser(
        'motion', help='body-part motion texts and summaries from an LLM')
    source = motion.add_mutually_exclusive_group(required=True)
    source.add_argument(
        '--classes',
        help='class names, one per line, in label order (a '
        'line may end with a TAB and the number of persons, 1 or 2)')
    source.add_argument(
        '--knowledge',
        help='a knowledge name (e.g. ntu120) or file to '
        'take the classes, persons, aliases, visual texts and summaries '
        'from')
    motion.add_argument(
        '--model',
        default=kb.SMOLLM2,
        help='a local Hugging Face causal '
        f"LM folder, or '{kb.SMOLLM2}' (default) for the bundled "
        'SmolLM2-135M-Instruct')
    motion.add_argument(
        '--gguf-file', help='a GGUF file in the --model folder')
    motion.add_argument(
        '--new-summary',
        action='store_true',
        help='generate summaries even for classes of --knowledge')
    motion.add_argument(
        '--max-words',
        type=int,
        default=16,
        help='most words of a body-part text (default 16)')
    motion.add_argument(
        '--repetition-penalty',
        type=float,
        default=1.0,
        help='of the first answer (default 1.0, none)')
    add_common(motion, max_new_tokens=128)

    visual = commands.add_parser(
        'visual', help='visual texts from a vision-language model')
    visual.add_argument(
        '--knowledge',
        required=True,
        help='the knowledge name or file to add visual texts to')
    visual.add_argument(
        '--videos',
        required=True,
        help='CSV with the header '
        '"class_name,video"; one row per video file or frame folder '
        '(relative to the CSV)')
    visual.add_argument(
        '--vlm',
        required=True,
        help='a local image-text-to-text model '
        'folder (model and processor)')
    visual.add_argument(
        '--image-encoder',
        required=True,
        help='a local image encoder '
        "folder (e.g. CLIP) for the frame choice, or 'pixels'")
    visual.add_argument(
        '--num-frames',
        type=int,
        default=4,
        help='frames shown per description (default 4)')
    visual.add_argument(
        '--num-candidates',
        type=int,
        default=16,
        help='frames sampled per video before the choice (default 16)')
    visual.add_argument(
        '--per-class',
        type=int,
        default=1,
        help='descriptions per class, from different videos (default 1)')
    visual.add_argument(
        '--replace',
        action='store_true',
        help='replace the old visual texts (default: append)')
    visual.add_argument(
        '--max-words',
        type=int,
        default=60,
        help='most words of a description (default 60)')
    add_common(visual, max_new_tokens=128)
    args = parser.parse_args(argv)
    if args.command == 'motion' and args.fallback == 'knowledge' and (
            not args.knowledge):
        parser.error('--fallback knowledge needs --knowledge')
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be at least 1')
    for name in ('batch_size', 'max_new_tokens', 'max_words'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.max_retries < 0:
        parser.error('--max-retries must be at least 0')
    return args


def run_motion(args: argparse.Namespace) -> kb.BuildResult:
    """The ``motion`` subcommand."""
    if args.knowledge:
        old = ActionKnowledge.load(args.knowledge)
        classes = old.classes
    else:
        old, classes = None, kb.read_class_list(args.classes)
    model, tokenizer = kb.load_text_model(args.model, args.gguf_file,
                                          args.device)
    generate = kb.HFTextGenerator(
        model, tokenizer, max_new_tokens=args.max_new_tokens, seed=args.seed)
    settings = dict(
        model=args.model,
        gguf_file=args.gguf_file,
        max_new_tokens=args.max_new_tokens,
        max_words=args.max_words,
        repetition_penalty=args.repetition_penalty,
        seed=args.seed)
    return kb.build_motion(
        args.out,
        classes,
        generate,
        old=old,
        dataset=args.dataset,
        description=args.description,
        new_summary=args.new_summary,
        max_retries=args.max_retries,
        batch_size=args.batch_size,
        max_words=args.max_words,
        repetition_penalty=args.repetition_penalty,
        fallback=args.fallback,
        overwrite=args.overwrite,
        settings=settings,
        progress=not args.no_progress)


def run_visual(args: argparse.Namespace) -> kb.BuildResult:
    """The ``visual`` subcommand."""
    knowledge = ActionKnowledge.load(args.knowledge)
    videos = kb.read_video_list(args.videos, knowledge)
    if args.image_encoder == 'pixels':
        embed = kb.pixel_embed
    else:
        embed = kb.HFImageEmbedder(args.image_encoder, args.device)
    selector = kb.FrameSelector(embed, args.num_frames, args.num_candidates,
                                args.seed)
    model, processor = kb.load_vlm(args.vlm, args.device)
    generate = kb.HFVisionGenerator(
        model, processor, max_new_tokens=args.max_new_tokens, seed=args.seed)
    settings = dict(
        vlm=args.vlm,
        image_encoder=args.image_encoder,
        num_frames=args.num_frames,
        num_candidates=args.num_candidates,
        max_new_tokens=args.max_new_tokens,
        max_words=args.max_words,
        seed=args.seed)
    return kb.build_visual(
        args.out,
        knowledge,
        videos,
        generate,
        selector,
        per_class=args.per_class,
        replace=args.replace,
        max_retries=args.max_retries,
        batch_size=args.batch_size,
        max_words=args.max_words,
        fallback=args.fallback,
        overwrite=args.overwrite,
        settings=settings,
        dataset=args.dataset,
        description=args.description,
        progress=not args.no_progress)


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    args = parse_args(argv)
    import torch
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.command == 'motion':
            run_motion(args)
        else:
            run_visual(args)
    except (kb.KnowledgeBuildError, KnowledgeError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    finally:
        torch.set_num_threads(threads)
    return 0


if __name__ == '__main__':
    sys.exit(main())
