"""Assignment 4, backprop through time for the LSTM: its row of ``cell_bptt.TABLE``, built there."""

from . import cell_bptt

NAME = "lstm"


def build(secret=None):
    return cell_bptt.build(NAME, secret)
