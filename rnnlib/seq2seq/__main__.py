"""The command line: ``python -m rnnlib.seq2seq train ...`` and ``python -m rnnlib.seq2seq translate ...``.

::

    python -m rnnlib.seq2seq train --task dates --out dates.npz
    python -m rnnlib.seq2seq train --task reverse --cell lstm --no-attention --epochs 5 --out reverse.npz
    python -m rnnlib.seq2seq translate dates.npz "the 3rd of march 1987" "3/4/21" --beam 4
    python -m rnnlib.seq2seq translate dates.npz --attention attention.png < dates.txt

``translate`` prints one output per input, one per line, in order; with no TEXT it reads the
inputs from stdin, one per line. A mistake in the arguments, an input the model cannot read or
a bad checkpoint ends with one line on stderr and exit status 2, never a traceback, and before
anything is trained, translated or written. Ctrl-C exits with status 130.
"""

import argparse
import math
import os
import sys
from dataclasses import fields

from ..cells import CELLS
from ..memory import keep_freed_memory
from .checkpoint import CheckpointError, check_out, load_checkpoint, save_checkpoint
from .data import TASKS
from .train import Config, decode_texts, train_seq2seq

DEFAULTS = Config()
#: each setting's help, and its choices where there are few
HELP = {
    "task": ("what to learn: dates turns a human-written date into ISO 8601, reverse reverses a string of "
             "letters", tuple(TASKS)),
    "cell": ("the recurrent cell of the encoder and the decoder", tuple(CELLS)),
    "layers": ("bidirectional encoder layers", None),
    "embed": ("the size of the characters' embeddings, on both sides", None),
    "hidden": ("hidden units of each encoder direction (its outputs have twice as many)", None),
    "dec_hidden": ("hidden units of the decoder", None),
    "attention_size": ("the additive attention's inner size", None),
    "attention": ("", None),                     # --no-attention, below
    "train_size": ("training examples drawn from the task's training split", None),
    "valid_size": ("validation examples, scored (exact match, greedy) after every epoch", None),
    "test_size": ("test examples, scored at the end", None),
    "batch_size": ("examples per training step (each batch holds sources of one length)", None),
    "epochs": ("passes over the training examples", None),
    "lr": ("Adam's learning rate", None),
    "clip": ("clip the gradients' global norm to this", None),
    "seed": ("seed of the examples drawn and of the initial weights", None),
}
#: what a test example is called, per task
NOUNS = {"dates": "dates", "reverse": "strings"}


def flag(name):
    """A setting's option: ``dec_hidden`` -> ``dec-hidden``."""
    return name.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other error here."""

    def error(self, message):
        where = self.prog if " " in self.prog.replace("python -m ", "") else f"{self.prog} train|translate"
        self.exit(2, f"error: {message} (see {where} --help)\n")


def _parser():
    p = _Parser(prog="python -m rnnlib.seq2seq",
                description="An encoder-decoder with additive attention, in numpy: train it on a task "
                            "(human-written dates to ISO 8601, or reversing strings), then translate with it.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and write a checkpoint",
                       description="Train an encoder-decoder on a task, printing each epoch's loss and validation "
                                   "accuracy on stderr, then write a checkpoint and print the test accuracy.")
    for f in fields(Config):
        if f.name == "attention":
            t.add_argument("--no-attention", dest="attention", action="store_false", default=None,
                           help="no attention: the decoder reads the encoder's final states at every step "
                                "(the model of Cho et al. 2014)")
            continue
        text, choices = HELP[f.name]
        listed = f"; one of {', '.join(choices)}" if choices else ""
        t.add_argument(f"--{flag(f.name)}", type=type(getattr(DEFAULTS, f.name)), default=None,
                       metavar="|".join(choices) if choices else f.name.upper(),
                       help=f"{text}{listed} (default: {getattr(DEFAULTS, f.name)})".replace("%", "%%"))
    t.add_argument("--out", metavar="FILE", help="the checkpoint to write (default: TASK.npz, e.g. dates.npz)")
    t.add_argument("--quiet", action="store_true", help="no progress lines")
    s = sub.add_parser("translate", help="translate strings with a trained model",
                       description="Print the model's output for each TEXT, one per line, in order. "
                                   "With no TEXT, read the inputs from stdin, one per line.")
    s.add_argument("checkpoint", help="a checkpoint written by train (dates.npz ...)")
    s.add_argument("texts", nargs="*", default=[], metavar="TEXT", help="the inputs (default: the lines of stdin)")
    s.add_argument("--beam", type=int, default=1, metavar="K",
                   help="beam search keeping the K likeliest outputs; 1 is greedy decoding (default: 1)")
    s.add_argument("--length-norm", type=float, default=0.0, metavar="A",
                   help="rank beam search's outputs by log-probability / length ** A: 0 sums the "
                        "log-probabilities (favouring short outputs), 1 averages them; beam search only (default: 0)")
    s.add_argument("--attention", metavar="FILE.png",
                   help="also save a heat map of each input's attention to this image (one subplot each; "
                        "the format from the extension: .png, .pdf, .svg ...)")
    return p


def _config(args):
    """The ``Config`` of the options given, its errors naming the option (``--dec-hidden``, not ``dec_hidden``)."""
    given = {f.name: getattr(args, f.name) for f in fields(Config) if getattr(args, f.name) is not None}
    try:
        config = Config(**given)
    except ValueError as exc:                    # "dec_hidden must be ..." -> "--dec-hidden must be ..."
        name = str(exc).split(" ", 1)[0]
        raise ValueError(f"--{flag(name)} {str(exc).split(' ', 1)[1]}" if name in given else str(exc)) from None
    return config


def _train(args):
    """Check the settings and --out, train, write the checkpoint, print the test accuracy."""
    config = _config(args)
    out = args.out if args.out is not None else f"{config.task}.npz"
    check_out(out)
    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    params, history = train_seq2seq(config, say=say)
    save_checkpoint(out, config, params, history)
    print(f"test accuracy {history['test_accuracy']:.3f} ({config.test_size} {NOUNS.get(config.task, 'examples')} "
          f"of the test split, greedy); wrote {out}")


def _show(text, width=40):
    """An input as an error message quotes it, shortened if long."""
    return repr(text if len(text) <= width else text[:width - 1] + "…")


def _inputs(args):
    """The inputs, from the arguments or from stdin (blank lines at the very end ignored)."""
    if args.texts:
        return args.texts, "input"
    if sys.stdin.isatty():
        print("reading the inputs from stdin, one per line; end with Ctrl-D", file=sys.stderr)
    lines = [line.rstrip("\r\n") for line in sys.stdin]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError("no input: give TEXT arguments, or lines on stdin")
    return lines, "line"


def _check_inputs(texts, what, model):
    """Every input must be readable by the model, before any is translated."""
    for i, text in enumerate(texts, 1):
        if not text.strip():
            raise ValueError(f"{what} {i} is {'empty' if not text else 'only whitespace'}: "
                             "there is nothing to translate")
        if bad := model.src_vocab.unknown(text):
            raise ValueError(f"{what} {i} {_show(text)} has characters outside the model's source vocabulary: "
                             f"{bad!r}")
        if len(text) > model.max_source:
            raise ValueError(f"{what} {i} {_show(text)} has {len(text)} characters; the model reads at most "
                             f"{model.max_source}")


def _check_attention_file(path, model):
    """The heat maps can be drawn (the model attends) and written at ``path`` (an image format's
    extension, in an existing, writable directory)."""
    if not model.config.attention:
        raise ValueError(f"--attention {path}: the model has no attention (it was trained with --no-attention)")
    from matplotlib.figure import Figure

    suffix = os.path.splitext(path)[1][1:].lower()
    formats = Figure().canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ValueError(f"--attention {path}: give an image file name ending in one of "
                         f"{', '.join('.' + f for f in sorted(formats))}")
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise ValueError(f"--attention {path} is a directory; give a file name, e.g. attention.png")
    if not os.path.isdir(folder):
        raise ValueError(f"--attention {path}: the directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--attention {path}: the directory {folder} is not writable")


def _translate(model, texts, beam, length_norm):
    """``(output, row labels, alphas)`` per text; the labels name every token written, specials too."""
    found = decode_texts(model.config.cell, model.params, texts, model.src_vocab, model.max_target + 1, beam,
                         length_norm)
    tv = model.tgt_vocab
    return [(tv.decode(tokens), [tv.itos[t] for t in tokens], alphas) for tokens, alphas in found]


def _translate_command(args):
    """Check the options, the checkpoint, the --attention file and every input; then translate."""
    if args.beam < 1:
        raise ValueError(f"--beam must be at least 1; got {args.beam}")
    if not 0 <= args.length_norm < math.inf:
        raise ValueError(f"--length-norm must be a number >= 0; got {args.length_norm}")
    model = load_checkpoint(args.checkpoint)
    if args.attention is not None:
        _check_attention_file(args.attention, model)
    texts, what = _inputs(args)
    _check_inputs(texts, what, model)
    results = _translate(model, texts, args.beam, args.length_norm)
    for output, _, _ in results:
        print(output)
    if args.attention is not None:
        from .plot import save_attention

        sys.stdout.flush()
        save_attention(args.attention, [(text, labels, alphas) for text, (_, labels, alphas) in zip(texts, results)])
        print(f"wrote the attention of {len(texts)} input{'s' * (len(texts) > 1)} to {args.attention}",
              file=sys.stderr)


def _parse(argv):
    """The arguments; TEXTs may come after the options too (``translate m.npz --beam 3 TEXT``), which
    argparse's ``nargs="*"`` does not take by itself."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and (args.command != "translate" or any(r.startswith("-") and r != "-" for r in rest)):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if rest:
        args.texts += rest
    return args


def main(argv=None):
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    try:
        args = _parse(argv)
        keep_freed_memory()              # this process is ours: its training steps reuse their memory
        (_train if args.command == "train" else _translate_command)(args)
    except (ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:              # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())     # no second error as Python exits
        return 141
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing more was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
