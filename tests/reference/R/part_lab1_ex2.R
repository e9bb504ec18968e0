# Reference values for Lab 1, example 2 (minority status and math achievement, on hs1 with
# id = school): the Level-1 OLS model and its influence diagnostics, the forward-stepwise
# likelihood-ratio tests and nlme's parametric simulation of one of them (simulate.lme), the Wald
# tests with regular expressions, the minority gap, and three multilevel R-squared measures
# (the Lab's amr2, Snijders-Bosker by hand, performance::r2_nakagawa).
# Writes tests/reference/lab1_ex2.json. Run: Rscript tests/reference/make_reference.R part_lab1_ex2
# (about 40 s, most of it nlme's 1000 simulations).

suppressPackageStartupMessages(library(performance))

dd <- hs1
dd$idf <- factor(dd$id)
out <- list()

# spida2's wald on a regular expression, by hand: every coefficient whose name matches is 0;
# numDF = rank of L, denDF = the smallest df of the coefficients involved (getFix.lme's rule).
wald_rows <- function(fit, L, df) {
  b <- fixef(fit); V <- fit$varFix
  s <- svd(L); r <- sum(s$d > max(dim(L)) * max(s$d) * .Machine$double.eps)
  Lf <- t(s$v[, 1:r, drop = FALSE])
  eta <- Lf %*% b
  F <- as.numeric(t(eta) %*% solve(Lf %*% V %*% t(Lf), eta)) / r
  den <- min(df[colSums(abs(L)) > 0])
  est <- as.vector(L %*% b); se <- sqrt(diag(L %*% V %*% t(L)))
  list(numDF = r, denDF = den, F = F, p = pf(F, r, den, lower.tail = FALSE),
       estimate = est, se = se, rows = rownames(L))
}
wald_re <- function(fit, pattern) {
  nm <- names(fixef(fit))
  hit <- grepl(pattern, nm)
  L <- diag(length(nm))[hit, , drop = FALSE]
  rownames(L) <- nm[hit]
  c(list(pattern = pattern, names = nm[hit]), wald_rows(fit, L, fit$fixDF$X))
}

# ---- 1. the Level-1 OLS model: ses * Minority within every school ----
ols_cross <- lm(mathach ~ (ses * Minority) * idf, dd)
ols <- lm(mathach ~ idf / (ses * Minority) - 1, dd)
cf <- coef(ols)
hat <- hatvalues(ols)
cook <- cooks.distance(ols)
rstud <- rstudent(ols)
mp <- ave(as.numeric(dd$Minority == "Yes"), dd$id)
hat_max <- ave(hat, dd$id, FUN = max)
first <- !duplicated(dd$id)
fin_cook <- is.finite(cook)
top <- order(-ifelse(fin_cook, cook, -Inf))[1:10]
bmin <- cf[grepl("Minority", names(cf)) & !is.na(cf)]
Vmin <- vcov(ols)[names(bmin), names(bmin)]
Fmin <- as.numeric(t(bmin) %*% solve(Vmin, bmin)) / length(bmin)
hat1 <- abs(hat - 1) < 1e-8
out$ols <- list(
  formula = "mathach ~ id/(ses * Minority) - 1",
  ncoef = length(cf), n_na = sum(is.na(cf)), na_names = names(cf)[is.na(cf)],
  ncoef_cross = length(coef(ols_cross)), n_na_cross = sum(is.na(coef(ols_cross))),
  rank = ols$rank, df_resid = ols$df.residual, sigma = summary(ols)$sigma,
  hat_sum = sum(hat), n_hat1 = sum(hat1), n_hat1_exact = sum(hat == 1),
  n_cook_nan = sum(!fin_cook), cook_quantiles = unname(quantile(cook[fin_cook], c(0, .25, .5, .75, .9, .99, 1))),
  cook_top_X = dd$X[top], cook_top = unname(cook[top]),
  round_cook_table = {
    t2 <- table(round(cook), hat1, useNA = "ifany")
    list(round = rownames(t2), hat1 = colnames(t2), counts = unname(matrix(as.integer(t2), nrow(t2))))
  },
  rstud_n_nonfinite = sum(!is.finite(rstud)),
  rstud_quantiles = unname(quantile(rstud[is.finite(rstud)], c(0, .01, .25, .5, .75, .99, 1))),
  wald_minority = list(numDF = length(bmin), denDF = ols$df.residual, F = Fmin,
                       p = pf(Fmin, length(bmin), ols$df.residual, lower.tail = FALSE)),
  school = dd$id[first], minority_p = unname(mp[first]), hat_max = unname(hat_max[first])
)

# lmList with the logical dummy (a one-level factor breaks lmList)
ddf <- model.frame(mathach ~ ses * Minority + id, dd)
fl <- nlme::lmList(mathach ~ ses * (Minority == "Yes") | id, ddf)
zz <- coef(fl)
out$lmlist <- list(school = as.integer(rownames(zz)), n_schools_na = sum(apply(is.na(zz), 1, any)),
                   n_na = sum(is.na(zz)), coef = mat(zz))

# within-school spread of the two Level-1 variables
vs <- var(resid(lm(cbind(Minority, ses) ~ factor(school), dd)))
out$scaling <- list(var = mat(vs), sd = unname(sqrt(diag(vs))))

# ---- 2. forward-stepwise RE building (REML, identical fixed effects) ----
fit <- lme(mathach ~ ses * Minority, dd, random = ~ 1 | id)
fit.m <- update(fit, random = ~ 1 + dvar(Minority, id) | id)
fit.s <- update(fit, random = ~ 1 + dvar(ses, id) | id)
fit.sm <- update(fit.m, random = ~ 1 + dvar(Minority, id) + dvar(ses, id) | id)
lrt <- function(a, b) {
  t <- anova(a, b)
  list(L.Ratio = t$L.Ratio[2], p = t$`p-value`[2], df = t$df[2] - t$df[1])
}
G <- getVarCov(fit.sm)
sv <- svd(G)$d
out$stepwise <- list(m_vs_fit = lrt(fit, fit.m), s_vs_fit = lrt(fit, fit.s), sm_vs_m = lrt(fit.m, fit.sm),
                     cond_G_sm = sv[1] / sv[length(sv)], singular_values_G_sm = sv,
                     eigen_G_sm = eigen(G, symmetric = TRUE)$values)

# ---- 3. nlme's parametric simulation of the fit.m vs fit.sm LRT ----
tm <- system.time(sim <- simulate(fit.m, m2 = fit.sm, nsim = 1000, seed = 1234, method = "REML"))
ok <- sim$null$REML[, "info"] == 0 & sim$alt$REML[, "info"] == 0
lr_all <- 2 * pmax(0, sim$alt$REML[, "logLik"] - sim$null$REML[, "logLik"])
lr <- lr_all[ok]
lr_obs <- out$stepwise$sm_vs_m$L.Ratio
out$simulate <- list(
  nsim = 1000, seed = 1234, method = "REML", df = attr(sim, "df"), elapsed = unname(tm["elapsed"]),
  lr_observed = lr_obs, p_nominal = out$stepwise$sm_vs_m$p,
  n_ok = sum(ok), n_null_fail = sum(sim$null$REML[, "info"] != 0), n_alt_fail = sum(sim$alt$REML[, "info"] != 0),
  p_empirical = mean(lr >= lr_obs),
  share_zero = mean(lr < 1e-6),
  lr_quantiles_probs = c(.1, .25, .5, .75, .9, .95, .99),
  lr_quantiles = unname(quantile(lr, c(.1, .25, .5, .75, .9, .95, .99))),
  lr_mean = mean(lr),
  lr_sorted = sort(lr)
)

# simulate.lme refits with a fixed number of EM iterations and then nlminb, and does not always
# reach the optimum: some of its LR* are 0 although the alternative fits better. Regenerate the
# first 200 responses exactly as simulate.lme does (same seed, same order of draws, rows sorted
# by cluster) and refit both models with lme4 (bobyqa), as a second opinion on the optima.
nchk <- 200
ds <- dd[order(dd$id), ]
ds$dMin <- dvar(ds$Minority, ds$id); ds$dses <- dvar(ds$ses, ds$id)
base <- model.matrix(~ ses * Minority, ds) %*% fixef(fit.m)
sig <- fit.m$sigma
DI <- sig * pdMatrix(fit.m$modelStruct$reStruct, factor = TRUE)[[1]]
Zs <- cbind(1, ds$dMin)
gs <- as.integer(factor(ds$id))
set.seed(1234)
chk <- matrix(NA, nchk, 3, dimnames = list(NULL, c("nlme_null", "lme4_null", "lme4_alt")))
for (i in 1:nchk) {
  y <- base + rnorm(nrow(ds), sd = sig)
  b <- matrix(rnorm(80 * 2), 80, 2) %*% DI
  ds$ysim <- as.vector(y + rowSums(b[gs, ] * Zs))
  ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
  n4 <- suppressMessages(suppressWarnings(lmer(ysim ~ ses * Minority + (1 + dMin | id), ds, control = ctl)))
  a4 <- suppressMessages(suppressWarnings(lmer(ysim ~ ses * Minority + (1 + dMin + dses | id), ds, control = ctl)))
  n0 <- tryCatch(as.numeric(logLik(lme(ysim ~ ses * Minority, ds, random = ~ 1 + dvar(Minority, id) | id))),
                 error = function(e) NA)
  chk[i, ] <- c(n0, as.numeric(logLik(n4)), as.numeric(logLik(a4)))
}
lr4 <- 2 * pmax(0, chk[, "lme4_alt"] - chk[, "lme4_null"])
out$simulate_check <- list(
  nsim = nchk,
  note = paste("the first 200 responses of simulate(fit.m, m2 = fit.sm, nsim = 1000, seed = 1234),",
               "regenerated, and refitted with lme4 (bobyqa)"),
  nlme_sim_null = unname(sim$null$REML[1:nchk, "logLik"]), nlme_sim_alt = unname(sim$alt$REML[1:nchk, "logLik"]),
  nlme_refit_null = unname(chk[, "nlme_null"]),
  lme4_null = unname(chk[, "lme4_null"]), lme4_alt = unname(chk[, "lme4_alt"]),
  lr_nlme_sim = unname(lr_all[1:nchk]), lr_lme4 = unname(lr4),
  p_empirical_nlme_sim = mean(lr_all[1:nchk] >= lr_obs), p_empirical_lme4 = mean(lr4 >= lr_obs),
  share_zero_nlme_sim = mean(lr_all[1:nchk] < 1e-6), share_zero_lme4 = mean(lr4 < 1e-6)
)

# ---- 4. contextual effects II: Wald tests with regular expressions ----
ac <- update(fit.sm, . ~ (.) * cvar(ses, id) * cvar(Minority, id))
ac3 <- update(ac, . ~ (ses + Minority + cvar(ses, id) + cvar(Minority, id))^3)
ac4 <- update(ac, . ~ (ses + Minority + cvar(Minority, id))^3 + cvar(ses, id))
ac5 <- update(ac, . ~ ses * Minority + cvar(Minority, id) + cvar(ses, id))
ff <- update(ac, . ~ ses * Minority + cvar(ses, id))
broken <- tryCatch(grepl(":car(ses|cvar(ses.*:", names(fixef(ac3))), error = function(e) conditionMessage(e),
                   warning = function(w) conditionMessage(w))
out$regex <- list(
  broken_pattern = ":car(ses|cvar(ses.*:", broken_message = broken,
  ac_all = wald_re(ac, ""),
  ac3_3way = wald_re(ac3, ":.*:"),
  ac3_cvar_ses = wald_re(ac3, ":cvar\\(ses|cvar\\(ses.*:"),
  ac3_cvar_min = wald_re(ac3, ":cvar\\(Min"),
  ac4_cvar_min = wald_re(ac4, ":cvar\\(Min"),
  ac5_cvar = wald_re(ac5, "cvar"),
  ff_all = wald_re(ff, "")
)
# spot checks on ac5
out$spot <- list(
  min_x_cmin = summary(update(ac5, . ~ . + Minority * cvar(Minority, id)))$tTable["MinorityYes:cvar(Minority, id)", ],
  ses_x_cses = summary(update(ac5, . ~ . + ses * cvar(ses, id)))$tTable["ses:cvar(ses, id)", ],
  ff_ses_x_cses = summary(update(ff, . ~ . + ses * cvar(ses, id)))$tTable["ses:cvar(ses, id)", ]
)

# ---- 5. the minority gap on ff2 (ses.mean stored as a column) ----
dd$ses.mean <- ave(dd$ses, dd$id)
ff2 <- update(ff, . ~ ses * Minority + ses.mean)
pts <- rbind(
  c(1, -1.5, 0, -0.5, 0), c(1, -0.5, 0, -0.5, 0), c(1, 0.5, 0, -0.5, 0),
  c(1, -1.5, 1, -0.5, -1.5), c(1, -0.5, 1, -0.5, -0.5), c(1, 0.5, 1, -0.5, 0.5),
  c(1, -0.5, 0, 0.5, 0), c(1, 0.5, 0, 0.5, 0), c(1, 1.5, 0, 0.5, 0),
  c(1, -0.5, 1, 0.5, -0.5), c(1, 0.5, 1, 0.5, 0.5), c(1, 1.5, 1, 0.5, 1.5))
rownames(pts) <- 1:12
gap <- rbind("-1.5" = c(0, 0, 1, 0, -1.5), "-0.5" = c(0, 0, 1, 0, -0.5), "0.5" = c(0, 0, 1, 0, 0.5),
             "1.5" = c(0, 0, 1, 0, 1.5))
ctx <- rbind("constant" = c(0, 0, 0, 1, 0))
comp <- rbind("Maj" = c(0, 1, 0, 1, 0), "Min" = c(0, 1, 0, 1, 1))
sesg <- seq(-2, 2, .1)
band <- cbind(0, 0, 1, 0, sesg)
df2 <- ff2$fixDF$X
out$gap <- list(points = wald_rows(ff2, pts, df2), gap = wald_rows(ff2, gap, df2),
                contextual = wald_rows(ff2, ctx, df2), compositional = wald_rows(ff2, comp, df2),
                band_ses = sesg, band = wald_rows(ff2, band, df2),
                ff2_fixef = as.list(fixef(ff2)))

# ---- 6. the fit2c family (fit2c is never defined in the Lab; ours: RE 1 + dvar(Minority, id)) ----
fit2c <- update(fit, random = ~ 1 + dvar(Minority, id) | id)
fit2c.c <- update(fit2c, . ~ . + cvar(ses, id) + cvar(Minority, id))
fit2c.ci <- update(fit2c.c, . ~ ses * Minority * cvar(ses, id) * cvar(Minority, id), random = ~ 1 | id)
hri <- update(fit2c.c, random = ~ 1 | id)
ci2 <- update(fit2c, . ~ (ses + Minority + cvar(ses, id) + cvar(Minority, id))^2, random = ~ 1 | id)
r3 <- update(fit2c, . ~ (ses + Minority + cvar(Minority, id))^2 + cvar(ses, id), random = ~ 1 | id)
r4 <- update(fit2c, . ~ ses * Minority + ses * cvar(Minority, id) + cvar(ses, id), random = ~ 1 | id)
ff3 <- update(fit2c, . ~ ses + Minority + ses * cvar(Minority, id) + cvar(ses, id), random = ~ 1 | id)
ff3c <- update(fit2c, . ~ ses + Minority + ses * cvar(Minority, id) + cvar(ses, id))
out$fit2c <- list(
  fit2c_c = describe_lme(fit2c.c, "hs1", "mathach ~ ses * Minority + cvar(ses, id) + cvar(Minority, id)",
                         "~ 1 + dvar(Minority, id) | id"),
  hausman = wald_re(fit2c.c, "cvar"), hausman_ri = wald_re(hri, "cvar"),
  ci_minority = wald_re(fit2c.ci, "Minority"), ci_ses = wald_re(fit2c.ci, "ses"),
  ci_cvar = wald_re(fit2c.ci, "cvar"), ci_3way = wald_re(fit2c.ci, ":.*:"),
  ci2_cvar_ses = wald_re(ci2, ":cvar\\(ses|cvar\\(ses.*:"), r3_cvar_m = wald_re(r3, "cvar\\(M"),
  r4_all = wald_re(r4, ""), ff3_all_but_int = {
    L <- diag(length(fixef(ff3)))[-1, ]; rownames(L) <- names(fixef(ff3))[-1]; wald_rows(ff3, L, ff3$fixDF$X)
  },
  ff3c_all_but_int = {
    L <- diag(length(fixef(ff3c)))[-1, ]; rownames(L) <- names(fixef(ff3c))[-1]; wald_rows(ff3c, L, ff3c$fixDF$X)
  }
)
# anova(fit2, fit2c): fit2 needs the Lab's larger iteration limits in nlme
fit2 <- tryCatch(update(fit, random = ~ ses * Minority | id,
                        control = lmeControl(maxIter = 200, msMaxIter = 200, niterEM = 100, msMaxEval = 500)),
                 error = function(e) NULL)
if (!is.null(fit2)) {
  a <- anova(fit2, fit2c)
  out$fit2c$anova_fit2_fit2c <- list(AIC = a$AIC, BIC = a$BIC, logLik = a$logLik, df = a$df)
  out$fit2c$cond_G_fit2 <- { s <- svd(getVarCov(fit2))$d; s[1] / s[length(s)] }
}
out$fit2c$cond_G_fit2c <- { s <- svd(getVarCov(fit2c))$d; s[1] / s[length(s)] }

# ---- 7. multilevel R-squared ----
ffnull <- update(fit2c, . ~ 1, random = ~ 1 | id)
amr2 <- function(full, null) {
  vf <- as.numeric(VarCorr(full)[, 1]); vn <- as.numeric(VarCorr(null)[, 1])
  (vn - vf) / vn
}
nj <- as.vector(table(dd$id))
nh <- length(nj) / sum(1 / nj)
sb <- function(full, null, n) {
  tf <- as.numeric(getVarCov(full)[1, 1]); tn <- as.numeric(getVarCov(null)[1, 1])
  sf <- full$sigma^2; sn <- null$sigma^2
  c(level1 = 1 - (sf + tf) / (sn + tn), level2 = 1 - (sf / n + tf) / (sn / n + tn))
}
# Nakagawa-Schielzeth: performance's values on a random-intercept fit (lme4, the same REML optimum;
# performance cannot get the variances of a random-intercept nlme fit) and on a random-slope fit (nlme)
dd$cMin <- cvar(dd$Minority, dd$id); dd$cses <- cvar(dd$ses, dd$id)
ff3_lmer <- lmer(mathach ~ ses + Minority + ses * cMin + cses + (1 | id), dd)
fitc <- lme(mathach ~ ses * Sector + cvar(ses, id), dd, random = ~ 1 + ses | id)
nak <- function(m) {
  r <- r2_nakagawa(m); v <- insight::get_variance(m)
  list(marginal = unname(r$R2_marginal), conditional = unname(r$R2_conditional),
       var_fixed = v$var.fixed, var_random = v$var.random, var_residual = v$var.residual)
}
out$r2 <- list(
  amr2_ff3 = amr2(ff3, ffnull), vc_ff3 = as.numeric(VarCorr(ff3)[, 1]), vc_null = as.numeric(VarCorr(ffnull)[, 1]),
  amr2_fit = amr2(fit, ffnull),
  n_harmonic = nh, sb_ff3 = as.list(sb(ff3, ffnull, nh)), sb_fit = as.list(sb(fit, ffnull, nh)),
  nakagawa_ff3 = c(nak(ff3_lmer), list(fixed = "mathach ~ ses + Minority + ses * cvar(Minority, id) + cvar(ses, id)",
                                       random = "~ 1 | id", engine = "lme4")),
  nakagawa_fitc = c(nak(fitc), list(fixed = "mathach ~ ses * Sector + cvar(ses, id)", random = "~ 1 + ses | id",
                                    engine = "nlme")),
  performance_version = as.character(packageVersion("performance"))
)

write_ref(out, "lab1_ex2")
