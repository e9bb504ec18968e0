# The OLS approaches of the notes' "Comparing mathach and its relationship with ses in the two
# sectors" (Methods 1-4, notes pp. 46-67) and the three estimates of ses (pp. 67-73), on hs.
# Writes tests/reference/notes_ols.json. Run from the repository root:
#
#     Rscript tests/reference/make_reference.R part_notes_ols
#
# spida2 is not needed: its `up` and `wald` are written out below with base R (the notes'
# code is kept in the comments).

# ---- helpers ---------------------------------------------------------------------------------

lm_record <- function(fit) {
  s <- summary(fit)
  cf <- coef(s)
  out <- list(
    coef = as.list(cf[, 1]), se = as.list(cf[, 2]), t = as.list(cf[, 3]), p = as.list(cf[, 4]),
    sigma = s$sigma, df_resid = fit$df.residual,
    r_squared = s$r.squared, adj_r_squared = s$adj.r.squared,
    vcov = mat(vcov(fit))
  )
  if (!is.null(s$fstatistic)) {
    f <- s$fstatistic
    out$fstatistic <- list(value = unname(f["value"]), numdf = unname(f["numdf"]), dendf = unname(f["dendf"]),
                           p = unname(pf(f["value"], f["numdf"], f["dendf"], lower.tail = FALSE)))
  }
  out$resid_quantiles <- unname(quantile(resid(fit)))
  out
}

# spida2::wald for an lm: F test of L beta = 0 and the t table of the rows of L
wald_lm <- function(fit, L) {
  b <- coef(fit)
  V <- vcov(fit)
  est <- drop(L %*% b)
  VL <- L %*% V %*% t(L)
  se <- sqrt(diag(VL))
  df <- fit$df.residual
  q <- qr(L)
  F <- drop(t(est) %*% solve(VL, est)) / q$rank
  list(
    numDF = q$rank, denDF = df, F = F, p_F = pf(F, q$rank, df, lower.tail = FALSE),
    rows = rownames(L), estimate = unname(est), se = unname(se), t = unname(est / se),
    p = unname(2 * pt(abs(est / se), df, lower.tail = FALSE)),
    vcov = mat(VL)
  )
}

# one row per school: Sector (school-invariant) and, with means, mathach and ses (spida2::up(..., all = T))
hs$fschool <- factor(hs$school)
ddu <- data.frame(school = as.integer(levels(hs$fschool)))
ddu$Sector <- factor(tapply(as.character(hs$Sector), hs$fschool, function(v) v[1])[as.character(ddu$school)],
                     levels = levels(hs$Sector))
ddu$mathach <- as.vector(tapply(hs$mathach, hs$fschool, mean))
ddu$ses <- as.vector(tapply(hs$ses, hs$fschool, mean))
ddu$n <- as.vector(table(hs$fschool))

out <- list()

# ---- Method 1: pooled OLS --------------------------------------------------------------------
fit.pooled <- lm(mathach ~ ses * Sector, hs)
out$pooled <- lm_record(fit.pooled)
out$pooled_ses <- lm_record(lm(mathach ~ ses, hs))

# ---- Method 2a: a line in each school, then equal-weight averages in each sector ------------
# lm1 <- lm( mathach ~ factor(school)/ses -1, hs); ddu <- up( hs, ~ factor(school))
lm1 <- lm(mathach ~ factor(school) / ses - 1, hs)
ind <- ddu$Sector == "Catholic"
L <- rbind("Catholic" = ind, "Public" = 1 - ind)
L <- L / apply(L, 1, sum)
L <- cbind(rbind(L, 0, 0), rbind(0, 0, L))
rownames(L) <- c("Cath Int", "Pub Int", "Cath Slope", "Pub Slope")
diffmat <- rbind("Int" = c(-1, 1, 0, 0), Slope = c(0, 0, -1, 1))
out$fixed_effects <- list(
  coef_names = names(coef(lm1)),
  coef = unname(coef(lm1)),
  sigma = summary(lm1)$sigma, df_resid = lm1$df.residual,
  sector_means = wald_lm(lm1, L),
  sector_difference = wald_lm(lm1, diffmat %*% L)
)

# ---- Method 2b: school intercepts, a common slope in each sector ----------------------------
fit2 <- lm(mathach ~ ses + factor(school) + ses:Sector, hs)
nm <- grep("ses:Sector", names(coef(fit2)), value = TRUE)
out$common_slopes <- list(
  name = nm,
  coef = unname(coef(fit2)[c("ses", nm)]),
  se = unname(sqrt(diag(vcov(fit2)))[c("ses", nm)]),
  t = unname(coef(summary(fit2))[c("ses", nm), 3]),
  p = unname(coef(summary(fit2))[c("ses", nm), 4]),
  df_resid = fit2$df.residual
)

# ---- Method 3: two stages -- lmList, then a multivariate regression on Sector --------------
lcoefs <- coef(lmList(mathach ~ ses | school, hs))
lm.mult <- lm(as.matrix(lcoefs) ~ Sector, ddu)
sm <- summary(lm.mult)
E <- crossprod(resid(lm.mult))
by_response <- function(k) {   # column k of each response's coefficient table, responses as columns
  m <- sapply(sm, function(s) coef(s)[, k])
  colnames(m) <- colnames(lcoefs)
  m
}
tests <- lapply(c("Pillai", "Wilks", "Hotelling-Lawley", "Roy"), function(test) {
  a <- anova(lm.mult, test = test)
  row <- a["Sector", ]
  list(test = test, stat = unname(row[[2]]), approx_F = unname(row[["approx F"]]),
       num_df = unname(row[["num Df"]]), den_df = unname(row[["den Df"]]), p = unname(row[["Pr(>F)"]]))
})
# a second MANOVA with two terms, one of them a 3-level factor (s = 2): tests the general formulas
comp <- tapply(hs$Sex == "Female", hs$fschool, mean)[as.character(ddu$school)]
ddu$SexCat <- factor(ifelse(comp == 1, "Girls", ifelse(comp == 0, "Boys", "Coed")))
lm.mult2 <- lm(as.matrix(lcoefs) ~ Sector + SexCat, ddu)
tests2 <- lapply(c("Pillai", "Wilks", "Hotelling-Lawley", "Roy"), function(test) {
  a <- anova(lm.mult2, test = test)
  lapply(c("Sector", "SexCat"), function(term) {
    row <- a[term, ]
    list(test = test, term = term, stat = unname(row[[2]]), approx_F = unname(row[["approx F"]]),
         num_df = unname(row[["num Df"]]), den_df = unname(row[["den Df"]]), p = unname(row[["Pr(>F)"]]))
  })
})
out$two_stage_sexcat <- list(sexcat = as.character(ddu$SexCat), coef = mat(coef(lm.mult2)),
                             manova = unlist(tests2, recursive = FALSE))

out$two_stage <- list(
  lmlist = mat(lcoefs),
  coef = mat(coef(lm.mult)),
  se = mat(by_response(2)),
  t = mat(by_response(3)),
  p = mat(by_response(4)),
  sigma = mat(E / lm.mult$df.residual),
  df_resid = lm.mult$df.residual,
  vcov = mat(vcov(lm.mult)),
  manova = tests
)

# ---- Method 4: the between-school (ecological) regression ----------------------------------
# fit.eco <- lm( mathach ~ ses, up( hs, ~ factor(school), all = T))
out$ecological <- lm_record(lm(mathach ~ ses, ddu))
out$ecological_sector <- lm_record(lm(mathach ~ ses * Sector, ddu))

# ---- the three estimates of the effect of ses ------------------------------------------------
hs$ses_m <- cvar(hs$ses, hs$school)
hs$ses_d <- hs$ses - hs$ses_m
out$contextual <- lm_record(lm(mathach ~ ses + ses_m, hs))            # ses: within, ses + ses_m: between
out$contextual_sector <- lm_record(lm(mathach ~ (ses + ses_m) * Sector, hs))
out$within_fe <- lm_record(lm(mathach ~ ses + factor(school), hs))     # the fixed-effects (within) slope
out$between_weighted <- lm_record(lm(mathach ~ ses_m, hs))            # school means, weighted by size
out$ss <- list(within = sum(hs$ses_d^2), between = sum((hs$ses_m - mean(hs$ses))^2))

write_ref(out, "notes_ols")
