# Lab 1, example 1 (hs1, id = school): what lme_models.json does not already hold.
#
#   * the classical Hausman test, by hand: FE (within) estimates from lm(... + factor(id)),
#     RE estimates from nlme::lme, H = d' (V_fe - V_re)^-1 d;
#   * the Mundlak form: the Wald test of the contextual (cvar) terms, and the fact that the
#     within coefficients of a random-intercept model with every cluster mean equal the FE ones;
#   * the Lab's Wald tests (spida2's wald, written out here: SVD-reduced L, F on rank(L) df,
#     denominator df the smallest nlme df of the coefficients involved), the compositional effect,
#     the within/contextual/compositional effects by sector, the Sector gap band;
#   * lm(resid ~ fitted) on fitc, anova(fitca, fitc);
#   * lme4's influence(..., groups = "id") + cooks.distance (and dfbeta) for the random-intercept
#     model with cvar and for fitc; drop-one-row influence for the random-intercept model;
#   * the exercise fits: sex and sex composition; validation on hs2.
#
# Run from the repository root:  Rscript tests/reference/make_reference.R part_lab1_ex1

dd <- hs1
dd$ses.m <- cvar(dd$ses, dd$id)
ctl <- lmeControl(maxIter = 200, msMaxIter = 200, niterEM = 100, msMaxEval = 500)

fit <- lme(mathach ~ ses * Sector, dd, random = ~ 1 + ses | id, control = ctl)
fitc <- lme(mathach ~ ses * Sector + cvar(ses, id), dd, random = ~ 1 + ses | id)
fitn <- lme(mathach ~ ses * Sector + ses.m, dd, random = ~ 1 + ses | id)
fit2 <- lme(mathach ~ (ses + cvar(ses, id)) * Sector, dd, random = ~ 1 + ses | id)
fitca <- update(fitc, random = ~ 1 + dvar(ses, id) | id)
fitcd <- update(fitc, . ~ dvar(ses, id) * Sector + cvar(ses, id))
fit2d <- update(fitc, . ~ (dvar(ses, id) + cvar(ses, id)) * Sector)

# ---- spida2's wald, written out -------------------------------------------------------------
wald_hand <- function(fit, L) {
  b <- fixef(fit)
  V <- as.matrix(vcov(fit))
  df <- if (inherits(fit, "lme")) fit$fixDF$X else rep(df.residual(fit), length(b))
  L <- rbind(L)
  s <- svd(L)
  r <- sum(s$d > max(dim(L)) * max(s$d) * .Machine$double.eps)
  Lf <- t(s$v[, seq_len(r), drop = FALSE])
  eta <- Lf %*% b
  Fv <- as.numeric(t(eta) %*% solve(Lf %*% V %*% t(Lf), eta)) / r
  den <- min(df[colSums(abs(L)) > 0])
  est <- as.vector(L %*% b)
  se <- sqrt(diag(L %*% V %*% t(L)))
  list(numDF = r, denDF = den, F = Fv, p = pf(Fv, r, den, lower.tail = FALSE),
       estimate = est, se = se)
}
Lpat <- function(fit, pat) {
  nm <- names(fixef(fit))
  i <- grep(pat, nm)
  L <- matrix(0, length(i), length(nm))
  L[cbind(seq_along(i), i)] <- 1
  L
}
Lall <- function(fit, drop = integer(0)) {
  p <- length(fixef(fit))
  keep <- setdiff(seq_len(p), drop)
  L <- matrix(0, length(keep), p)
  L[cbind(seq_along(keep), keep)] <- 1
  L
}

L_comp <- rbind(Within = c(0, 1, 0, 0, 0), Contextual = c(0, 0, 0, 1, 0), Compositional = c(0, 1, 0, 1, 0))
L_within <- rbind(Catholic = c(0, 1, 0, 0, 0), Public = c(0, 1, 0, 0, 1), "Pub-Cath" = c(0, 0, 0, 0, 1))
L_context <- rbind(Catholic = c(0, 0, 0, 1, 0), Public = c(0, 0, 0, 1, 0))
L_compos <- rbind(Catholic = c(0, 1, 0, 1, 0), Public = c(0, 1, 0, 1, 1), "Pub-Cath" = c(0, 0, 0, 0, 1))
gap_ses <- seq(-2, 2, 0.05)
L_gap <- cbind(0, 0, 1, 0, gap_ses)

waldt <- list(
  fit_ses = wald_hand(fit, Lpat(fit, "ses")),
  fit_Sector = wald_hand(fit, Lpat(fit, "Sector")),
  fitc_all = wald_hand(fitc, Lall(fitc)),
  fitc_minus1 = wald_hand(fitc, Lall(fitc, 1)),
  fitc_ses = wald_hand(fitc, Lpat(fitc, "ses")),
  fitc_Sector = wald_hand(fitc, Lpat(fitc, "Sector")),
  fitc_colon = wald_hand(fitc, Lpat(fitc, ":")),
  fitc_cvar = wald_hand(fitc, Lpat(fitc, "cvar")),
  fitc_comp = wald_hand(fitc, L_comp),
  fit2_colon = wald_hand(fit2, Lpat(fit2, ":")),
  fitn_within = wald_hand(fitn, L_within),
  fitn_context = wald_hand(fitn, L_context),
  fitn_compos = wald_hand(fitn, L_compos),
  fitn_gap = wald_hand(fitn, L_gap)
)
waldt$fitn_gap$ses <- gap_ses

# ---- the Hausman test by hand ---------------------------------------------------------------
hausman_hand <- function(fe, re, terms) {
  d <- coef(fe)[terms] - fixef(re)[terms]
  Vd <- vcov(fe)[terms, terms, drop = FALSE] - as.matrix(vcov(re))[terms, terms, drop = FALSE]
  H <- as.numeric(t(d) %*% solve(Vd, d))
  list(terms = terms, fe = unname(coef(fe)[terms]), re = unname(fixef(re)[terms]),
       se_fe = unname(sqrt(diag(vcov(fe)))[match(terms, names(coef(fe)))]),
       se_re = unname(sqrt(diag(as.matrix(vcov(re))))[match(terms, names(fixef(re)))]),
       statistic = H, df = length(terms), p = pchisq(H, length(terms), lower.tail = FALSE),
       eigen_Vd = eigen(Vd, symmetric = TRUE)$values)
}
fe_ses <- lm(mathach ~ ses + factor(id), dd)
fe_int <- lm(mathach ~ ses + ses:Sector + factor(id), dd)
re_ses_ri <- lme(mathach ~ ses, dd, random = ~ 1 | id)
re_int_ri <- lme(mathach ~ ses * Sector, dd, random = ~ 1 | id)
mundlak_ri <- lme(mathach ~ (ses + cvar(ses, id)) * Sector, dd, random = ~ 1 | id)
mundlak_ses_ri <- lme(mathach ~ ses + cvar(ses, id), dd, random = ~ 1 | id)
hausman <- list(
  ses_ri = hausman_hand(fe_ses, re_ses_ri, "ses"),
  int_ri = hausman_hand(fe_int, re_int_ri, c("ses", "ses:SectorPublic")),
  int_lab_fit = hausman_hand(fe_int, fit, c("ses", "ses:SectorPublic")),
  fe_sigma = summary(fe_int)$sigma,
  fe_df_resid = df.residual(fe_int),
  mundlak_ri = list(fixef = as.list(fixef(mundlak_ri)), se = as.list(sqrt(diag(mundlak_ri$varFix))),
                    cvar = wald_hand(mundlak_ri, Lpat(mundlak_ri, "cvar"))),
  mundlak_ses_ri = list(fixef = as.list(fixef(mundlak_ses_ri)),
                        cvar = wald_hand(mundlak_ses_ri, Lpat(mundlak_ses_ri, "cvar")))
)

# ---- residuals and model comparison ---------------------------------------------------------
rf <- coef(lm(resid ~ fitted, data.frame(resid = resid(fitc), fitted = fitted(fitc))))
rf_pearson <- coef(lm(resid ~ fitted, data.frame(resid = resid(fitc, type = "pearson"), fitted = fitted(fitc))))
an <- anova(fitca, fitc)
other <- list(
  resid_fitted = list(intercept = unname(rf[1]), slope = unname(rf[2]),
                      slope_pearson = unname(rf_pearson[2])),
  anova_fitca_fitc = list(AIC = an$AIC, BIC = an$BIC, logLik = an$logLik),
  fitcd_loglik = as.numeric(logLik(fitcd)), fitc_loglik = as.numeric(logLik(fitc)),
  fit2_loglik = as.numeric(logLik(fit2)), fit2d_loglik = as.numeric(logLik(fit2d)),
  fit2d_fixef = as.list(fixef(fit2d)),
  population_fitted_head = unname(head(fitted(fitc, level = 0), 5))
)

# ---- lme4's influence: drop one school, drop one row -----------------------------------------
infl <- function(model, groups) {
  tm <- system.time(inf <- if (is.null(groups)) influence(model) else influence(model, groups = groups))
  db <- dfbeta(inf)
  list(cooks = unname(cooks.distance(inf)), dfbeta = mat(db), units = as.character(rownames(db)),
       converged = unname(inf$converged), seconds = unname(tm["elapsed"]),
       fixef = as.list(fixef(model)), vcov = mat(as.matrix(vcov(model))))
}
fit_ri4 <- lmer(mathach ~ ses * Sector + cvar(ses, id) + (1 | id), data = dd, REML = TRUE)
fitc4 <- lmer(mathach ~ ses * Sector + cvar(ses, id) + (1 + ses | id), data = dd, REML = TRUE)
influence_ri_id <- infl(fit_ri4, "id")
influence_rs_id <- infl(fitc4, "id")
cat("influence by id:", influence_ri_id$seconds, "s (random intercept),", influence_rs_id$seconds, "s (random slope)\n")
# rows: 3684 refits (about 2 minutes); keep Cook's distances and the dfbeta of the 25 largest
rows_all <- infl(fit_ri4, NULL)
top <- order(rows_all$cooks, decreasing = TRUE)[1:25]
influence_ri_rows <- list(cooks = rows_all$cooks, converged_all = all(rows_all$converged),
                          n_converged = sum(rows_all$converged), seconds = rows_all$seconds,
                          top = top, dfbeta_top = rows_all$dfbeta$values[top, , drop = FALSE],
                          cols = rows_all$dfbeta$cols)
cat("influence by row:", rows_all$seconds, "s\n")

# ---- exercises: sex and sex composition; validation on hs2 ------------------------------------
fitsex <- lme(mathach ~ ses * Sector + cvar(ses, id) + Sex + cvar(Sex, id), dd, random = ~ 1 + ses | id)
fitsex2 <- lme(mathach ~ (ses + Sex) * Sector + cvar(ses, id) + cvar(Sex, id), dd, random = ~ 1 + ses | id)
sexfull <- tryCatch(
  lme(mathach ~ ses * Sector + cvar(ses, id) + Sex + cvar(Sex, id), dd, random = ~ ses * Sex | id),
  error = function(e) conditionMessage(e))
sexfull_ctl <- tryCatch(
  lme(mathach ~ ses * Sector + cvar(ses, id) + Sex + cvar(Sex, id), dd, random = ~ ses * Sex | id,
      control = ctl),
  error = function(e) conditionMessage(e))
sexfull4 <- lmer(mathach ~ ses * Sector + cvar(ses, id) + Sex + cvar(Sex, id) + (ses * Sex | id), data = dd,
                 REML = TRUE, control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
exercise <- list(
  fitsex = describe_lme(fitsex, "hs1", "mathach ~ ses * Sector + cvar(ses, id) + Sex + cvar(Sex, id)", "~ 1 + ses | id"),
  fitsex2 = describe_lme(fitsex2, "hs1", "mathach ~ (ses + Sex) * Sector + cvar(ses, id) + cvar(Sex, id)", "~ 1 + ses | id"),
  fitsex2_sex = wald_hand(fitsex2, Lpat(fitsex2, "Sex")),
  sexfull_nlme = if (is.character(sexfull)) sexfull else "converged",
  sexfull_nlme_control = if (is.character(sexfull_ctl)) sexfull_ctl else "converged",
  sexfull_lme4 = describe_lmer(sexfull4, "hs1", "mathach ~ ses * Sector + cvar(ses, id) + Sex + cvar(Sex, id)",
                               "~ ses * Sex | id", note = "lme4 (bobyqa)", ranef = FALSE)
)
exercise$sexfull_lme4$singular <- isSingular(sexfull4)

hs2$ses.m <- cvar(hs2$ses, hs2$id)
v_fitc <- tryCatch(lme(mathach ~ ses * Sector + cvar(ses, id), hs2, random = ~ 1 + ses | id),
                   error = function(e) conditionMessage(e))
v_fitc_ctl <- tryCatch(lme(mathach ~ ses * Sector + cvar(ses, id), hs2, random = ~ 1 + ses | id, control = ctl),
                       error = function(e) conditionMessage(e))
v_fitca <- lme(mathach ~ ses * Sector + cvar(ses, id), hs2, random = ~ 1 + dvar(ses, id) | id)
v_fitc4 <- lmer(mathach ~ ses * Sector + cvar(ses, id) + (1 + ses | id), data = hs2, REML = TRUE,
                control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
validation <- list(
  fitc_nlme = if (is.character(v_fitc)) v_fitc else describe_lme(v_fitc, "hs2", "mathach ~ ses * Sector + cvar(ses, id)", "~ 1 + ses | id"),
  fitc_nlme_control = if (is.character(v_fitc_ctl)) v_fitc_ctl else "converged",
  fitc_lme4 = describe_lmer(v_fitc4, "hs2", "mathach ~ ses * Sector + cvar(ses, id)", "~ 1 + ses | id",
                            note = "lme4 (bobyqa)", ranef = FALSE),
  fitca = describe_lme(v_fitca, "hs2", "mathach ~ ses * Sector + cvar(ses, id)", "~ 1 + dvar(ses, id) | id"),
  fitca_comp = wald_hand(v_fitca, L_comp),
  fitca_colon = wald_hand(v_fitca, Lpat(v_fitca, ":"))
)
validation$fitc_lme4$singular <- isSingular(v_fitc4)

write_ref(list(wald = waldt, hausman = hausman, other = other,
               influence_ri_id = influence_ri_id, influence_rs_id = influence_rs_id,
               influence_ri_rows = influence_ri_rows,
               exercise = exercise, validation = validation,
               versions = list(R = R.version.string, nlme = as.character(packageVersion("nlme")),
                               lme4 = as.character(packageVersion("lme4")))),
          "lab1_ex1")
