"""The command line: ``python -m rnnlib.charlm train ...`` and ``python -m rnnlib.charlm sample ...``.

::

    python -m rnnlib.charlm train --text time_machine --cell gru --hidden 256 --steps 1000 --seed 0 --out model.npz
    python -m rnnlib.charlm train --resume model.npz --steps 2000 --out model.npz
    python -m rnnlib.charlm sample model.npz --prime "The " --length 200 --temperature 0.8 --seed 0

A mistake in the arguments or a bad checkpoint ends with one line on stderr and exit status 2,
never a traceback.
"""

import argparse
import sys
from dataclasses import fields

from . import CheckpointError, Config, load_checkpoint, train_charlm
from ..lm import sample

DEFAULTS = Config()


def _parser():
    p = argparse.ArgumentParser(prog="python -m rnnlib.charlm",
                                description="A character-level language model in numpy: train it, then sample from it.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model (or resume one) and write a checkpoint")
    for f in fields(Config):
        t.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(DEFAULTS, f.name)),
                       default=getattr(DEFAULTS, f.name), help=f"(default: {getattr(DEFAULTS, f.name)})")
    t.add_argument("--out", default="model.npz", help="checkpoint to write (default: model.npz)")
    t.add_argument("--resume", help="checkpoint to continue from, up to --steps steps in all")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("sample", help="generate text from a checkpoint")
    s.add_argument("checkpoint")
    s.add_argument("--prime", default="The ", help="text to start from (default: 'The ')")
    s.add_argument("--length", type=int, default=200, help="characters to generate (default: 200)")
    s.add_argument("--temperature", type=float, default=1.0,
                   help="> 1 flatter, < 1 sharper, 0 always the likeliest (default: 1.0)")
    s.add_argument("--top-k", type=int, default=None, help="draw among the k likeliest only")
    s.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            config = Config(**{f.name: getattr(args, f.name) for f in fields(Config)}).check()
            model = train_charlm(config, out=args.out, resume=args.resume, progress=not args.quiet)
            h = model.history
            print(f"step {model.step}: validation perplexity {h['valid_ppl'][-1]:.3f}; wrote {args.out}")
        else:
            if args.length < 0:
                raise ValueError(f"--length must be >= 0; got {args.length}")
            if not args.temperature >= 0:
                raise ValueError(f"--temperature must be >= 0; got {args.temperature}")
            if args.top_k is not None and args.top_k < 1:
                raise ValueError(f"--top-k must be at least 1; got {args.top_k}")
            model = load_checkpoint(args.checkpoint)
            if missing := model.vocab.unknown_in(args.prime):
                raise ValueError(f"--prime has characters the model never saw: {''.join(missing)!r}")
            print(sample(model.config.cell, model.params, model.vocab, args.prime, args.length,
                         args.temperature, args.top_k, args.seed))
    except (ValueError, CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
