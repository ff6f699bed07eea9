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

import numpy as np

from . import RUN_SETTINGS, CheckpointError, Config, Interrupted, best_path, load_checkpoint, train_charlm
from .config import flag
from ..lm import sample
from ..memory import keep_freed_memory

DEFAULTS = Config()


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other error here."""

    def error(self, message):
        where = self.prog if " " in self.prog.replace("python -m ", "") else f"{self.prog} train|sample"
        self.exit(2, f"error: {message} (see {where} --help)\n")


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
                                   f"{', '.join('--' + flag(n) for n in RUN_SETTINGS)} may change.")
    for f in fields(Config):
        # None when not given: a resumed run changes only what the user gave
        choices = f.metadata["choices"]
        t.add_argument(f"--{flag(f.name)}", type=type(getattr(DEFAULTS, f.name)), default=None,
                       metavar="|".join(choices) if choices else f.name.upper(), help=_help(f))
    t.add_argument("--out", help="the checkpoint to write (default: model.npz, or the --resume checkpoint)")
    t.add_argument("--resume", metavar="CHECKPOINT", help="a checkpoint to continue from, up to --steps steps in all")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("sample", help="generate text from a checkpoint (the text is not needed)")
    s.add_argument("checkpoint", help="a checkpoint written by train (model.npz, model.best.npz ...)")
    s.add_argument("--prime", default="", help="text to start from, which the output repeats (default: one "
                                               "character drawn at random from the model's vocabulary)")
    s.add_argument("--length", type=int, default=200, help="characters to generate (default: 200)")
    s.add_argument("--temperature", type=float, default=1.0,
                   help="> 1 flatter, < 1 sharper (char-rnn's 0.8 is a common choice), 0 always the likeliest "
                        "(default: 1.0)")
    s.add_argument("--top-k", type=int, default=None, help="draw among the k likeliest only (default: all)")
    s.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    return p


def _train(args):
    given = {f.name: getattr(args, f.name) for f in fields(Config) if getattr(args, f.name) is not None}
    out = args.out if args.out is not None else (args.resume or "model.npz")
    # the settings and a resumed checkpoint checked first; train_charlm checks --out and the text
    # before it trains
    config = given if args.resume else Config(**given).check()
    before = load_checkpoint(args.resume).step if args.resume else 0
    say = lambda line: print(line, file=sys.stderr)
    model = train_charlm(config, out=out, resume=args.resume, progress=not args.quiet, say=say)
    if model.step == before:                            # nothing to do (already said)
        return
    h, (best_step, best_ppl) = model.history, model.best
    print(f"step {model.step}: validation perplexity {h['valid_ppl'][-1]:.3f}, "
          f"test perplexity {model.test_ppl:.3f}; wrote {out}")
    where = best_path(out) if best_step > before else f"at step {before} or before: this run did not improve on it"
    print(f"best validation perplexity {best_ppl:.3f}, at step {best_step} ({where})")


def _sample(args):
    if args.length < 0:
        raise ValueError(f"--length must be >= 0; got {args.length}")
    if not 0 <= args.temperature < float("inf"):
        raise ValueError(f"--temperature must be a number >= 0; got {args.temperature}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0; got {args.seed}")
    if args.top_k is not None and args.top_k < 1:
        raise ValueError(f"--top-k must be at least 1; got {args.top_k}")
    model = load_checkpoint(args.checkpoint)
    if missing := model.vocab.unknown_in(args.prime):
        raise ValueError(f"--prime has characters the model never saw: {''.join(missing)!r}")
    prime, length = args.prime, args.length
    if not prime:                      # as char-rnn: a first character drawn uniformly from the vocabulary
        known = model.vocab.chars[1:]
        prime, length = known[np.random.default_rng([args.seed, 1]).integers(len(known))], max(0, length - 1)
    print(sample(model.config.cell, model.params, model.vocab, prime, length,
                 args.temperature, args.top_k, args.seed))


def main(argv=None):
    args = _parser().parse_args(argv)
    keep_freed_memory()                  # this process is ours: its training steps reuse their memory
    try:
        (_train if args.command == "train" else _sample)(args)
    except (ValueError, CheckpointError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        where = f"; saved step {stop.model.step} to {stop.saved_to}" if stop.saved_to else ""
        print(f"interrupted at step {stop.model.step}{where}", file=sys.stderr)
        return 128 + stop.signum                       # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
    except KeyboardInterrupt:
        print("interrupted" + ("; nothing more was written" if args.command == "train" else ""), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
