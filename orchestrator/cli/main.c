#include "orchestrator/cli/cli.h"

int main(int argc, char **argv) { return stack_cli_main(argc, argv); }
