/* Intrusive doubly linked lists: any struct with `prev` and `next` pointers
 * to its own type, a head pointer, NULL-terminated.  O(1) push and unlink,
 * for the sets of live connections an event loop keeps. */
#ifndef STACK_UTIL_DLIST_H
#define STACK_UTIL_DLIST_H

#include <stddef.h>

/* Pushes node at the front of the list *headp. */
#define DLIST_PUSH(headp, node)                                                                    \
  do {                                                                                             \
    (node)->prev = NULL;                                                                           \
    (node)->next = *(headp);                                                                       \
    if (*(headp) != NULL)                                                                          \
      (*(headp))->prev = (node);                                                                   \
    *(headp) = (node);                                                                             \
  } while (0)

/* Unlinks node (which must be on the list *headp). */
#define DLIST_REMOVE(headp, node)                                                                  \
  do {                                                                                             \
    if ((node)->prev != NULL)                                                                      \
      (node)->prev->next = (node)->next;                                                           \
    else                                                                                           \
      *(headp) = (node)->next;                                                                     \
    if ((node)->next != NULL)                                                                      \
      (node)->next->prev = (node)->prev;                                                           \
    (node)->prev = (node)->next = NULL;                                                            \
  } while (0)

#endif
