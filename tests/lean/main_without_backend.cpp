// A program whose source files never include the CPU backend: using a layer is a clear ann::Error.
int run_layers();
int main() { return run_layers() == 3 ? 0 : 1; }
