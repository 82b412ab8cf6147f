"""ember.distributed.elastic.multiprocessing: holds ``errors`` (PyTorch's error recording for entry points)."""
