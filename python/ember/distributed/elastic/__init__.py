"""ember.distributed.elastic: the names of torchelastic's packages that training scripts import (its error
recording, ``multiprocessing.errors.record``). ember's ranks start under ``mpiexec``; there is no elastic agent
to restart them."""
