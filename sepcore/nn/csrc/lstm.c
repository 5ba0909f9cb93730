/* The elementwise half of an LSTM step, for sepcore/nn/lstm.py.
 *
 * The matrix products (the input projection of every step at once, the recurrent product
 * of each step, the weight gradients) are torch's; what is left per step is one pass
 * over the gates, which torch would spend a dozen small kernels (and their dispatch) on.
 * Both directions of a bidirectional layer go through one call. Gate order is torch's:
 * i, f, g, o. Built by sepcore/nn/lstm.py with the machine's own instruction set; the
 * float64 kernels (for tests) use libm's exp and tanh.
 *
 * Layouts (elements, not bytes), per direction d, row r (one sequence of the batch) and
 * step (time runs backwards for the reverse direction):
 *   gates G:   G + d*gd + r*gr, 4H values (pre-activations in, activations out: in place)
 *   recurrent A: A + d*ad + r*4H, NULL at the first step (zero)
 *   cell c:    c + d*ccd + r*H, the running state, in/out
 *   saved c_t: cs + d*cd + r*cr (NULL: not kept)
 *   next h:    hn + d*hd + r*hr (NULL at the last step)
 *   output y:  y + d*yd + r*yr (signed strides: the reverse direction walks back in time)
 */
#include <math.h>

/* exp of no more than LIMIT: no overflow, which -ffast-math may assume away */
#define CLAMP(x, lim) ((x) < -(lim) ? -(lim) : ((x) > (lim) ? (lim) : (x)))

/* float32: exp as 2^k times a degree-6 polynomial (Cephes' expf coefficients; relative
 * error ~2e-7 on [-87, 87]), inlined so that GCC vectorizes it with the loops: libmvec's
 * expf / tanhf calls cost about as much as the step's matrix product. */
static inline float fexp(float x) {
    x = CLAMP(x, 87.0f);
    float k = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int bits = ((int)k + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float ftanh(float x) { return 1.0f - 2.0f / (1.0f + fexp(2.0f * x)); }

#define REAL float
#define NAME(x) x##_f32
#define EXP fexp
#define TANH ftanh
#define LIMIT 87.0f
#include "lstm_step.h"
#undef REAL
#undef NAME
#undef EXP
#undef TANH
#undef LIMIT

#define REAL double
#define NAME(x) x##_f64
#define EXP exp
#define TANH tanh
#define LIMIT 700.0
#include "lstm_step.h"
