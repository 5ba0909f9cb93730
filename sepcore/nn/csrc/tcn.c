/* Elementwise passes of a ConvTasNet block on channels-last activations, for
 * sepcore/nn/tcn_kernels.py.
 *
 * A block's middle is PReLU -> gLN -> depthwise conv -> PReLU -> gLN: in torch that is a
 * dozen kernels over the whole [T, C] activation of each example, forward and backward,
 * each with its own pass through memory and its own dispatch. Here it is two functions
 * (a PReLU followed by the norm's normalisation; the depthwise conv), each one or two
 * passes. The norms' affine transforms are folded into the weights that follow
 * (sepcore/nn/channels_last.py), so the norm here only normalises.
 *
 * Every example of the batch is independent: the loops over it run in parallel (OpenMP,
 * the runtime torch already loaded), one call of a *_one function per example (a loop
 * body that OpenMP outlines itself loses `restrict` and ran 2x slower). What is summed
 * over the batch (the weight gradients) is kept per example and added up in order
 * afterwards, so the results do not depend on the number of threads. Sums over an
 * example's frames are taken in float over blocks of CHUNK values and added up in
 * double. Built with the machine's own instruction set (-march=native); the float64
 * kernels are for the tests.
 */
#include <math.h>

#define CHUNK 1024

#define DEFINE(T, S)                                                                      \
/* y[b] = (a - mean(a)) / sqrt(var(a) + eps) with a = prelu(h[b]) over each example's n  \
 * values; stats[b] = (mean, 1 / sqrt(var + eps)) */                                      \
static void prelu_norm_fwd_one_##S(long n, const T *restrict x, T slope, double eps,      \
                                   T *restrict out, double *restrict stats) {             \
    double s = 0, ss = 0;                                                                 \
    for (long i0 = 0; i0 < n; i0 += CHUNK) {                                              \
        long i1 = i0 + CHUNK < n ? i0 + CHUNK : n;                                        \
        T ps = 0, pss = 0;                                                                \
        for (long i = i0; i < i1; i++) {                                                  \
            T a = x[i] > 0 ? x[i] : slope * x[i];                                         \
            ps += a;                                                                      \
            pss += a * a;                                                                 \
        }                                                                                 \
        s += ps;                                                                          \
        ss += pss;                                                                        \
    }                                                                                     \
    double mean = s / n, var = ss / n - mean * mean;                                      \
    double rstd = 1.0 / sqrt((var > 0 ? var : 0) + eps);                                  \
    T m = (T)mean, r = (T)rstd;                                                           \
    for (long i = 0; i < n; i++) {                                                        \
        T a = x[i] > 0 ? x[i] : slope * x[i];                                             \
        out[i] = (a - m) * r;                                                             \
    }                                                                                     \
    stats[0] = mean;                                                                      \
    stats[1] = rstd;                                                                      \
}                                                                                         \
void prelu_norm_fwd_##S(int threads, int B, long n, const T *h, T slope, double eps,      \
                        T *y, double *stats) {                                            \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                     \
    for (int b = 0; b < B; b++)                                                           \
        prelu_norm_fwd_one_##S(n, h + b * n, slope, eps, y + b * n, stats + 2 * b);       \
}                                                                                         \
                                                                                          \
/* The gradients of prelu_norm_fwd: gh from g (the gradient of y) and y itself;           \
 * gslope[b] is example b's share of the slope's gradient. */                             \
static void prelu_norm_bwd_one_##S(long n, const T *restrict x, T slope,                  \
                                   const T *restrict y, T r, const T *restrict g,         \
                                   T *restrict out, double *restrict gslope) {            \
    double sg = 0, sgy = 0;                                                               \
    for (long i0 = 0; i0 < n; i0 += CHUNK) {                                              \
        long i1 = i0 + CHUNK < n ? i0 + CHUNK : n;                                        \
        T p = 0, q = 0;                                                                   \
        for (long i = i0; i < i1; i++) {                                                  \
            p += g[i];                                                                    \
            q += g[i] * y[i];                                                             \
        }                                                                                 \
        sg += p;                                                                          \
        sgy += q;                                                                         \
    }                                                                                     \
    T mg = (T)(sg / n), mgy = (T)(sgy / n);                                               \
    double sl = 0;                                                                        \
    for (long i0 = 0; i0 < n; i0 += CHUNK) {                                              \
        long i1 = i0 + CHUNK < n ? i0 + CHUNK : n;                                        \
        T p = 0;                                                                          \
        for (long i = i0; i < i1; i++) {                                                  \
            T ga = r * (g[i] - mg - y[i] * mgy);                                          \
            T negative = x[i] > 0 ? 0 : x[i];                                             \
            out[i] = x[i] > 0 ? ga : slope * ga;                                          \
            p += ga * negative;                                                           \
        }                                                                                 \
        sl += p;                                                                          \
    }                                                                                     \
    *gslope = sl;                                                                         \
}                                                                                         \
void prelu_norm_bwd_##S(int threads, int B, long n, const T *h, T slope, const T *y,      \
                        const double *stats, const T *g, T *gh, double *gslope) {         \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                     \
    for (int b = 0; b < B; b++)                                                           \
        prelu_norm_bwd_one_##S(n, h + b * n, slope, y + b * n, (T)stats[2 * b + 1],       \
                               g + b * n, gh + b * n, gslope + b);                        \
}                                                                                         \
                                                                                          \
/* The frames [lo, hi) at which every tap k reads frame t + offs[k] inside [0, T). */     \
static void inner_##S(int Tn, int K, const int *offs, int sign, int *lo, int *hi) {       \
    *lo = 0;                                                                              \
    *hi = Tn;                                                                             \
    for (int k = 0; k < K; k++) {                                                         \
        int o = sign * offs[k];                                                           \
        if (-o > *lo) *lo = -o;                                                           \
        if (Tn - o < *hi) *hi = Tn - o;                                                   \
    }                                                                                     \
    if (*hi < *lo) *hi = *lo;                                                             \
}                                                                                         \
                                                                                          \
/* u[b,t,c] = bias[c] + sum over the taps k whose frame t + offs[k] exists of             \
 * w[k,c] * x[b,t+offs[k],c] + off[k,c] (zero padding; off is the norm's shift folded     \
 * into tap k, so it counts only where the tap sees a frame). full: C values of scratch. */ \
static void dw_fwd_one_##S(int Tn, int C, int K, const int *offs, int lo, int hi,       \
                           const T *restrict x, const T *restrict w, const T *restrict off, \
                           const T *restrict bias, const T *restrict full, T *restrict u) { \
    for (int t = 0; t < Tn; t++) {                                                        \
        T *restrict y = u + (long)t * C;                                                  \
        if (K == 3 && t >= lo && t < hi) {  /* every tap inside: one pass */              \
            const T *restrict x0 = x + (long)(t + offs[0]) * C;                           \
            const T *restrict x1 = x + (long)(t + offs[1]) * C;                           \
            const T *restrict x2 = x + (long)(t + offs[2]) * C;                           \
            for (int c = 0; c < C; c++)                                                   \
                y[c] = full[c] + w[c] * x0[c] + w[C + c] * x1[c] + w[2 * C + c] * x2[c];  \
            continue;                                                                     \
        }                                                                                 \
        for (int c = 0; c < C; c++) y[c] = bias[c];                                       \
        for (int k = 0; k < K; k++) {                                                     \
            int s = t + offs[k];                                                          \
            if (s < 0 || s >= Tn) continue;                                               \
            const T *restrict xs = x + (long)s * C;                                       \
            const T *restrict wk = w + k * C, *restrict ok = off + k * C;                 \
            for (int c = 0; c < C; c++) y[c] += wk[c] * xs[c] + ok[c];                    \
        }                                                                                 \
    }                                                                                     \
}                                                                                         \
void dw_fwd_##S(int threads, int B, int Tn, int C, int K, const int *offs, const T *x,    \
                const T *w, const T *off, const T *bias, T *u, T *full) {                 \
    for (int c = 0; c < C; c++) full[c] = bias[c];                                        \
    for (int k = 0; k < K; k++)                                                           \
        for (int c = 0; c < C; c++) full[c] += off[k * C + c];                            \
    int lo, hi;                                                                           \
    inner_##S(Tn, K, offs, 1, &lo, &hi);                                                  \
    long frames = (long)Tn * C;                                                           \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                     \
    for (int b = 0; b < B; b++)                                                           \
        dw_fwd_one_##S(Tn, C, K, offs, lo, hi, x + b * frames, w, off, bias, full,        \
                       u + b * frames);                                                   \
}                                                                                         \
                                                                                          \
/* The gradients of dw_fwd from g (that of u): gx in full; per example b, its share of    \
 * the weights' (gw), offsets' (goff) and bias's (gbias) gradients, laid out             \
 * part[b] = [gw: K*C | goff: K*C | gbias: C]. */                                         \
static void dw_bwd_one_##S(int Tn, int C, int K, const int *offs, int lo, int hi,       \
                           int glo, int ghi, const T *restrict xb, const T *restrict w,   \
                           const T *restrict gb, T *restrict gxb, T *restrict pw) {       \
    T *restrict pe = pw + K * C, *restrict pb = pe + K * C;                               \
    for (long i = 0; i < 2L * K * C + C; i++) pw[i] = 0;                                  \
    for (int t = 0; t < Tn; t++) {  /* the input's gradient, gathered per frame */        \
        T *restrict o = gxb + (long)t * C;                                                \
        if (K == 3 && t >= glo && t < ghi) {                                              \
            const T *restrict g0 = gb + (long)(t - offs[0]) * C;                          \
            const T *restrict g1 = gb + (long)(t - offs[1]) * C;                          \
            const T *restrict g2 = gb + (long)(t - offs[2]) * C;                          \
            for (int c = 0; c < C; c++)                                                   \
                o[c] = g0[c] * w[c] + g1[c] * w[C + c] + g2[c] * w[2 * C + c];            \
            continue;                                                                     \
        }                                                                                 \
        for (int c = 0; c < C; c++) o[c] = 0;                                             \
        for (int k = 0; k < K; k++) {                                                     \
            int r = t - offs[k];                                                          \
            if (r < 0 || r >= Tn) continue;                                               \
            const T *restrict gr = gb + (long)r * C, *restrict wk = w + k * C;            \
            for (int c = 0; c < C; c++) o[c] += gr[c] * wk[c];                            \
        }                                                                                 \
    }                                                                                     \
    for (int t = 0; t < Tn; t++) {  /* the parameters' */                                 \
        const T *restrict gt = gb + (long)t * C;                                          \
        for (int c = 0; c < C; c++) pb[c] += gt[c];                                       \
        if (K == 3 && t >= lo && t < hi) {                                                \
            const T *restrict x0 = xb + (long)(t + offs[0]) * C;                          \
            const T *restrict x1 = xb + (long)(t + offs[1]) * C;                          \
            const T *restrict x2 = xb + (long)(t + offs[2]) * C;                          \
            for (int c = 0; c < C; c++) {                                                 \
                pw[c] += gt[c] * x0[c];                                                   \
                pw[C + c] += gt[c] * x1[c];                                               \
                pw[2 * C + c] += gt[c] * x2[c];                                           \
            }                                                                             \
            continue;                                                                     \
        }                                                                                 \
        for (int k = 0; k < K; k++) {                                                     \
            int s = t + offs[k];                                                          \
            if (s < 0 || s >= Tn) {  /* tap k reads the padding: its offset is not */     \
                for (int c = 0; c < C; c++) pe[k * C + c] -= gt[c];  /* added here */     \
                continue;                                                                 \
            }                                                                             \
            const T *restrict xs = xb + (long)s * C;                                      \
            for (int c = 0; c < C; c++) pw[k * C + c] += gt[c] * xs[c];                   \
        }                                                                                 \
    }                                                                                     \
    for (int k = 0; k < K; k++)  /* offset k: the bias's gradient, less its edges */      \
        for (int c = 0; c < C; c++) pe[k * C + c] += pb[c];                               \
}                                                                                         \
void dw_bwd_##S(int threads, int B, int Tn, int C, int K, const int *offs, const T *x,    \
                const T *w, const T *g, T *gx, T *part) {                                 \
    int lo, hi, glo, ghi;                                                                 \
    inner_##S(Tn, K, offs, 1, &lo, &hi);    /* every tap reads a frame */                 \
    inner_##S(Tn, K, offs, -1, &glo, &ghi); /* every tap's frame is read from */          \
    long frames = (long)Tn * C, size = 2L * K * C + C;                                    \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                     \
    for (int b = 0; b < B; b++)                                                           \
        dw_bwd_one_##S(Tn, C, K, offs, lo, hi, glo, ghi, x + b * frames, w, g + b * frames, \
                       gx + b * frames, part + b * size);                                 \
}

DEFINE(float, f32)
DEFINE(double, f64)
