// The same layers, in a program where this one source file compiles the CPU backend in.
#include "ann/backend/cpu/backend.hpp"
int run_layers();
int main() { return run_layers(); }
