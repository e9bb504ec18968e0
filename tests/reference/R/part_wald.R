# Wald tests as spida2's wald computes them, written out in R (spida2 is not on CRAN/Debian):
# L reduced to full rank by the SVD, F = (L b)' (L V L')^-1 (L b) / rank, denDF = min df of the
# coefficients involved; per-row estimates with their own min df. Regex patterns use R's grepl.

wald_r <- function(fit, L) {
  b <- fixef(fit); V <- fit$varFix; df <- fit$fixDF$X
  if (is.character(L)) {
    hit <- grepl(L, names(b))
    L <- diag(length(b))[hit, , drop = FALSE]
    rownames(L) <- names(b)[hit]
  }
  if (is.null(dim(L))) L <- matrix(L, nrow = 1)
  s <- svd(L)
  tol <- max(dim(L)) * max(s$d) * .Machine$double.eps
  r <- sum(s$d > tol)
  Lf <- t(s$v[, seq_len(r), drop = FALSE])
  eta <- Lf %*% b
  F <- as.numeric(t(eta) %*% solve(Lf %*% V %*% t(Lf), eta)) / r
  den <- min(df[colSums(abs(L)) > 0])
  est <- as.vector(L %*% b)
  se <- sqrt(diag(L %*% V %*% t(L)))
  rowdf <- apply(L, 1, function(row) min(df[row != 0]))
  list(numDF = r, denDF = den, F = F, p = pf(F, r, den, lower.tail = FALSE),
       estimate = est, se = se, df = rowdf, rows = rownames(L))
}

ctl <- lmeControl(maxIter = 200, msMaxIter = 200, niterEM = 100, msMaxEval = 500)
hs1$ses.m <- cvar(hs1$ses, hs1$id)
fitc <- lme(mathach ~ ses * Sector + cvar(ses, id), hs1, random = ~ 1 + ses | id)
fitn <- lme(mathach ~ ses * Sector + ses.m, hs1, random = ~ 1 + ses | id)
fit2 <- lme(mathach ~ (ses + cvar(ses, id)) * Sector, hs1, random = ~ 1 + ses | id)
ac3 <- lme(mathach ~ (ses + Minority + cvar(ses, id) + cvar(Minority, id))^3, hs1,
           random = ~ 1 + dvar(Minority, id) + dvar(ses, id) | id)
ac4 <- lme(mathach ~ (ses + Minority + cvar(Minority, id))^3 + cvar(ses, id), hs1,
           random = ~ 1 + dvar(Minority, id) + dvar(ses, id) | id)
ff <- lme(mathach ~ ses * Minority + cvar(ses, id), hs1, random = ~ 1 + dvar(Minority, id) + dvar(ses, id) | id)
h_ri <- lme(mathach ~ ses * Minority + cvar(ses, id) + cvar(Minority, id), hs1, random = ~ 1 | id)
oneway <- lme(mathach ~ 1, hs, random = ~ 1 | school)

L3 <- rbind(Within = c(0, 1, 0, 0, 0), Contextual = c(0, 0, 0, 1, 0), Compositional = c(0, 1, 0, 1, 0))
Lwithin <- rbind(Catholic = c(0, 1, 0, 0, 0), Public = c(0, 1, 0, 0, 1), "Pub - Cath" = c(0, 0, 0, 0, 1))
gap_ses <- seq(-2, 2, 0.05)
Lgap <- cbind(0, 0, 1, 0, gap_ses)
dgap <- seq(-2, 2, 0.1)
Lmgap <- cbind(0, 0, 1, 0, dgap)

out <- list(
  oneway_all = c(model = "hs_oneway", L = "", wald_r(oneway, "")),
  fitc_ses = c(model = "lab_fitc", L = "ses", wald_r(fitc, "ses")),
  fitc_sector = c(model = "lab_fitc", L = "Sector", wald_r(fitc, "Sector")),
  fitc_colon = c(model = "lab_fitc", L = ":", wald_r(fitc, ":")),
  fitc_all = c(model = "lab_fitc", L = "", wald_r(fitc, "")),
  fitc_L3 = c(model = "lab_fitc", L = "Within/Contextual/Compositional", wald_r(fitc, L3)),
  fitn_within = c(model = "lab_fitn", L = "Within by sector", wald_r(fitn, Lwithin)),
  fitn_gap = c(model = "lab_fitn", L = "gap(ses) ses = -2, -1.95, ..., 2", wald_r(fitn, Lgap)),
  fit2_colon = c(model = "lab_fit2", L = ":", wald_r(fit2, ":")),
  ac3_3way = c(model = "lab2_fit_sm_ac3", L = ":.*:", wald_r(ac3, ":.*:")),
  ac3_cvarses = c(model = "lab2_fit_sm_ac3", L = ":cvar\\(ses|cvar\\(ses.*:", wald_r(ac3, ":cvar\\(ses|cvar\\(ses.*:")),
  ac3_cvarmin = c(model = "lab2_fit_sm_ac3", L = ":cvar\\(Min", wald_r(ac3, ":cvar\\(Min")),
  ac4_cvarmin = c(model = "lab2_fit_sm_ac4", L = ":cvar\\(Min", wald_r(ac4, ":cvar\\(Min")),
  ff_gap = c(model = "lab2_ff", L = "minority gap at ses = -2, -1.9, ..., 2", wald_r(ff, Lmgap)),
  ff_contextual = c(model = "lab2_ff", L = "cvar", wald_r(ff, "cvar")),
  hausman_ri_cvar = c(model = "lab2_hausman_ri", L = "cvar", wald_r(h_ri, "cvar"))
)
write_ref(out, "wald")
