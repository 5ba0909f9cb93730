/* The step kernels of lstm.c for one floating-point type: included once per type, with
 * REAL (the type), NAME(x) (the function name), EXP, TANH and LIMIT defined. */

void NAME(lstm_fwd)(int D, int n, int H, REAL *G, long gd, long gr, const REAL *A, long ad, REAL *c,
                    long ccd, REAL *cs, long cd, long cr, REAL *hn, long hd, long hr,
                    REAL *y, long yd, long yr) {
    for (int d = 0; d < D; d++)
        for (int r = 0; r < n; r++) {
            REAL *restrict g = G + d * gd + r * gr;
            REAL *restrict cc = c + d * ccd + (long)r * H;
            REAL *restrict yy = y + d * yd + r * yr;
            if (A) {
                const REAL *restrict a = A + d * ad + (long)r * 4 * H;
                for (int j = 0; j < 4 * H; j++) g[j] += a[j];
            }
            for (int j = 0; j < 2 * H; j++) g[j] = 1 / (1 + EXP(-CLAMP(g[j], LIMIT)));
            for (int j = 2 * H; j < 3 * H; j++) g[j] = TANH(g[j]);
            for (int j = 3 * H; j < 4 * H; j++) g[j] = 1 / (1 + EXP(-CLAMP(g[j], LIMIT)));
            for (int j = 0; j < H; j++) {
                REAL cn = g[H + j] * cc[j] + g[j] * g[2 * H + j];
                cc[j] = cn;
                yy[j] = g[3 * H + j] * TANH(cn);
            }
            if (cs) {
                REAL *restrict keep = cs + d * cd + r * cr;
                for (int j = 0; j < H; j++) keep[j] = cc[j];
            }
            if (hn) {
                REAL *restrict h = hn + d * hd + r * hr;
                for (int j = 0; j < H; j++) h[j] = yy[j];
            }
        }
}

/* One step back: dh = dy + E (E: the recurrent part, NULL at the last step), dc carried;
 * from the gate activations S, the gradients of the pre-activations dS (same layout). */
void NAME(lstm_bwd)(int D, int n, int H, const REAL *S, REAL *dS, long sd, long dsd, long sr,
                    const REAL *dy, long yd,
                    long yr, const REAL *E, long ed, const REAL *cs, const REAL *cp, long cd, long cr,
                    REAL *dc, long dcd) {
    for (int d = 0; d < D; d++)
        for (int r = 0; r < n; r++) {
            const REAL *restrict s = S + d * sd + r * sr;
            REAL *restrict ds = dS + d * dsd + r * sr;
            const REAL *restrict gy = dy + d * yd + r * yr;
            const REAL *restrict ct = cs + d * cd + r * cr;
            REAL *restrict dcc = dc + d * dcd + (long)r * H;
            REAL dh[H], prev[H];
            for (int j = 0; j < H; j++) dh[j] = gy[j];
            if (E) {
                const REAL *restrict e = E + d * ed + (long)r * H;
                for (int j = 0; j < H; j++) dh[j] += e[j];
            }
            if (cp) {
                const REAL *restrict cq = cp + d * cd + r * cr;
                for (int j = 0; j < H; j++) prev[j] = cq[j];
            } else {
                for (int j = 0; j < H; j++) prev[j] = 0;
            }
            for (int j = 0; j < H; j++) {
                REAL i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j];
                REAL tc = TANH(ct[j]);
                REAL dcn = dcc[j] + dh[j] * o * (1 - tc * tc);
                ds[j] = dcn * g * i * (1 - i);
                ds[H + j] = dcn * prev[j] * f * (1 - f);
                ds[2 * H + j] = dcn * i * (1 - g * g);
                ds[3 * H + j] = dh[j] * tc * o * (1 - o);
                dcc[j] = dcn * f;
            }
        }
}
