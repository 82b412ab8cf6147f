# Copied from https://github.com/pytorch/examples/blob/77f55b912142e11fcfdf5b530231fb9c52f181e8/time_sequence_prediction/generate_sine_wave.py
# Licence: BSD-3-Clause, see LICENSE.
# Changed (smaller data set): `L = 1000` -> `L = 200`, `N = 100` -> `N = 20`.
import numpy as np
import torch

np.random.seed(2)

T = 20
L = 200
N = 20

x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
torch.save(data, open('traindata.pt', 'wb'))
