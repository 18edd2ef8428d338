/* The Dockerfile frontend: what `stack build` and Compose `build:` use to
 * turn a Dockerfile into steps to run.  Pure logic (no files, images or
 * VMs); the executor walks what it returns:
 *
 *   dockerfile_parse()      text -> instructions          (dockerfile.h)
 *   build_plan_create()     instructions -> stages        (build_plan.h)
 *   build_stage_resolve()   a stage + its base's config -> steps and the
 *                           image config it ends with     (build_plan.h)
 *   dockerignore_parse()    which context files to leave out (dockerignore.h)
 *   shell_expand_word()     ARG/ENV expansion as the reference does it
 *                                                          (shell_words.h)
 *
 * Behaviour follows the reference frontend (moby/buildkit's
 * frontend/dockerfile); tests/conformance/dockerfile holds its test data,
 * which tests/unit/builder checks case by case. */
#ifndef STACK_BUILDER_BUILDER_H
#define STACK_BUILDER_BUILDER_H

#include "builder/build_plan.h"
#include "builder/dockerfile.h"
#include "builder/dockerignore.h"
#include "builder/shell_words.h"

#endif
