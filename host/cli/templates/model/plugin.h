/* @NAME@.h — what the @NAME@ plugin's files and its test share. */
#ifndef @NAME_UPPER@_H
#define @NAME_UPPER@_H

#include "engram/plugin.h"
#include "engram/retrieval.h"
#include "engram/tensor.h"

typedef struct @NAME@_model {
    double beta; /* inverse temperature */
    int steps;   /* maximum updates */
    double tol;  /* convergence threshold on the max abs change */
} @NAME@_model;

/* one update of all states S [Q, d] against the memories X [M, d]:
 * S <- softmax(beta S X^T) X, each row a weighted mean of the memories */
eg_tensor *@NAME@_step(const @NAME@_model *m, eg_tensor *S, eg_tensor *X);

#endif
