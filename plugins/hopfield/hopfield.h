/* hopfield.h — the hopfield plugin's update rules (the plugin's own API, not
 * part of the SDK; tests and benches link the plugin's code and call them).
 * States are rows: S [Q, d] holds Q states, X [M, d] the M stored patterns.
 * Every function works on a whole batch of states at once.
 *
 *   mchn  (Ramsauer et al. 2020, eq. update):  S <- softmax(beta S X^T) X
 *         E(s) = -lse(beta, X s) + 1/2 s.s + beta^-1 ln M + 1/2 max_i |x_i|^2
 *   gmm   (Annabi et al. 2022, eq. 45):        S <- softmax(-|s - x_i|^2 / 2 sigma^2) X
 *         E(s) = -logsumexp_i(-|s - x_i|^2 / 2 sigma^2)
 *   dense (Krotov & Hopfield 2016), +-1 states, F(x) = x^n:
 *         s_i <- sign sum_mu [F(x_mu.s - x_mu,i s_i + x_mu,i) - F(x_mu.s - x_mu,i s_i - x_mu,i)]
 *         E(s) = -sum_mu F(x_mu . s)                                            */
#ifndef HOPFIELD_H
#define HOPFIELD_H

#include "engram/plugin.h"
#include "engram/retrieval.h"

typedef enum hop_variant { HOP_MCHN = 0, HOP_GMM, HOP_DENSE } hop_variant;

typedef struct hop_net {
    hop_variant variant;
    double beta;  /* mchn inverse temperature */
    double sigma; /* gmm component std */
    int n;        /* dense polynomial degree */
    int async;    /* dense: 1 = one unit at a time in a random order per sweep, 0 = all units at once */
    int steps;    /* maximum updates (a dense async update is one sweep over the d units) */
    double tol;   /* a state has converged when an update changes it by less (max abs change) */
} hop_net;


/* The energy [Q] of each state. */
eg_tensor *hop_energy(const hop_net *h, eg_tensor *S, eg_tensor *X);

/* One update of every state: returns the new states [Q, d]. When energy is not
 * NULL it receives the energy [Q] of the states before the update (computed from
 * the same overlaps). rng orders the dense async sweep (advanced); else unused. */
eg_tensor *hop_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **energy);

/* Up to h->steps updates, stopping early once every state changed by less than
 * h->tol. *steps_out (may be NULL) receives per-state update counts [Q]: the
 * updates that changed the state by tol or more before the first one that did
 * not. When r is not NULL the mean energy after each update (0 = before the
 * first) goes to eg_retrieval_energy. */
eg_tensor *hop_retrieve(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **steps_out,
                        eg_retrieval *r);

/* dense: [0, 1] data -> +-1 states (x > 0.5 -> +1, else -1) */
eg_tensor *hop_binarize(eg_tensor *x);

/* internal: per-variant rules */
/* xsq: hop_row_norms(X), computed once per set of memories (NULL: computed here) */
eg_tensor *hop_row_norms(eg_tensor *X);
eg_tensor *hop_mchn_gmm_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *xsq, eg_tensor **energy);
eg_tensor *hop_mchn_gmm_energy(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_tensor *xsq);
eg_tensor *hop_dense_step(const hop_net *h, eg_tensor *S, eg_tensor *X, eg_rng *rng, eg_tensor **energy);
eg_tensor *hop_dense_energy(const hop_net *h, eg_tensor *S, eg_tensor *X);

#endif
