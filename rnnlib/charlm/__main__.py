"""The command line: ``python -m rnnlib.charlm train ...`` and ``python -m rnnlib.charlm sample ...``.

::

    python -m rnnlib.charlm train --text my_text.txt --cell lstm --layers 2 --hidden 128 --out model.npz
    python -m rnnlib.charlm train --resume model.npz --steps 2000
    python -m rnnlib.charlm sample model.npz --prime "The " --length 200 --temperature 0.8

A mistake in the arguments, a text that cannot be used or a bad checkpoint ends with one line
on stderr and exit status 2, never a traceback, and before any training. Ctrl-C saves the
current step and exits with status 130.
"""

import argparse
import sys
from dataclasses import fields

from . import (RUN_SETTINGS, CheckpointError, Config, Interrupted, best_path, check_out, load_checkpoint,
               train_charlm)
from ..lm import sample

DEFAULTS = Config()


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other error here."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _help(f):
    choices = f.metadata["choices"]
    listed = f"; one of {', '.join(choices)}" if choices else ""
    return f"{f.metadata['help']}{listed} (default: {getattr(DEFAULTS, f.name)})".replace("%", "%%")


def _parser():
    p = _Parser(prog="python -m rnnlib.charlm",
                description="A character-level language model in numpy, in the manner of char-rnn: "
                            "train it on any text, then sample from it.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model (or resume one) and write a checkpoint",
                       description="Train on a text and write a checkpoint at every evaluation, keeping the best "
                                   "one beside it (model.npz -> model.best.npz). With --resume only "
                                   f"{', '.join('--' + n.replace('_', '-') for n in RUN_SETTINGS)} may change.")
    for f in fields(Config):
        # None when not given: a resumed run changes only what the user gave
        t.add_argument(f"--{f.name.replace('_', '-')}", type=type(getattr(DEFAULTS, f.name)), default=None,
                       metavar=f.name.upper(), help=_help(f))
    t.add_argument("--out", help="the checkpoint to write (default: model.npz, or the --resume checkpoint)")
    t.add_argument("--resume", metavar="CHECKPOINT", help="a checkpoint to continue from, up to --steps steps in all")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("sample", help="generate text from a checkpoint (the text is not needed)")
    s.add_argument("checkpoint")
    s.add_argument("--prime", default="The ", help="text to start from (default: 'The ')")
    s.add_argument("--length", type=int, default=200, help="characters to generate (default: 200)")
    s.add_argument("--temperature", type=float, default=1.0,
                   help="> 1 flatter, < 1 sharper (char-rnn's 0.8 is a common choice), 0 always the likeliest "
                        "(default: 1.0)")
    s.add_argument("--top-k", type=int, default=None, help="draw among the k likeliest only (default: all)")
    s.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    return p


def _train(args):
    given = {f.name: getattr(args, f.name) for f in fields(Config) if getattr(args, f.name) is not None}
    out = args.out or args.resume or "model.npz"
    # the settings, a resumed checkpoint and --out, checked before anything is read or trained
    config = given if args.resume else Config(**given).check()
    before = load_checkpoint(args.resume).step if args.resume else 0
    check_out(out)
    say = lambda line: print(line, file=sys.stderr)
    model = train_charlm(config, out=out, resume=args.resume, progress=not args.quiet, say=say)
    if model.step == before:                            # nothing to do (already said)
        return
    h, (best_step, best_ppl) = model.history, model.best
    print(f"step {model.step}: validation perplexity {h['valid_ppl'][-1]:.3f}, "
          f"test perplexity {model.test_ppl:.3f}; wrote {out}")
    print(f"best validation perplexity {best_ppl:.3f}, at step {best_step}: {best_path(out)}")


def _sample(args):
    if args.length < 0:
        raise ValueError(f"--length must be >= 0; got {args.length}")
    if not args.temperature >= 0:
        raise ValueError(f"--temperature must be >= 0; got {args.temperature}")
    if args.top_k is not None and args.top_k < 1:
        raise ValueError(f"--top-k must be at least 1; got {args.top_k}")
    model = load_checkpoint(args.checkpoint)
    if not args.prime:
        raise ValueError("--prime must hold at least one character")
    if missing := model.vocab.unknown_in(args.prime):
        raise ValueError(f"--prime has characters the model never saw: {''.join(missing)!r}")
    print(sample(model.config.cell, model.params, model.vocab, args.prime, args.length,
                 args.temperature, args.top_k, args.seed))


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        (_train if args.command == "train" else _sample)(args)
    except (ValueError, CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        where = f"; saved step {stop.model.step} to {stop.saved_to}" if stop.saved_to else ""
        print(f"interrupted at step {stop.model.step}{where}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted; nothing more was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
