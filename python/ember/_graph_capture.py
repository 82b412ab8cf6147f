"""How many CUDA graph captures are under way in this process (ember.cuda.graphs keeps the count). The few
Python paths that must refuse a capture (random numbers made on the host, optimizers that count steps there)
read it here, without importing ember.cuda: zero is the answer on every step of a program that captures none."""

depth = 0
