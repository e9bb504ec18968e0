# hlmkit.lme beyond the HSB data (issue 12): standard one-grouping-factor data sets of nlme, lme4
# and datasets, rescaled versions, and simulated hard cases (data/lme_cases/*.csv, written by
# data/make_lme_cases.R). Each model is fitted by REML and by ML with nlme::lme and with
# lme4::lmer, and the file records
#   * both engines' log-likelihoods, estimates and (for nlme) the df, vcov, summary's standard
#     errors (with nlme's adjustSigma for ML fits), nlme's apVar, and anova(fit) sequential and
#     marginal;
#   * an exact numerical Hessian (numDeriv::hessian, Richardson extrapolation) of the
#     log-likelihood at the better of the two optima, in nlme's natural parametrisation of apVar:
#     log standard deviations, log((1+r)/(1-r)) of the correlations, log(sigma), with the fixed
#     effects profiled out (nlme's lmeApVar.fullLmeLogLik). It is computed from the model's
#     matrices by the code below, not by nlme, so it does not inherit nlme's step sizes.

suppressPackageStartupMessages(library(numDeriv))

cases_dir <- file.path(root, "data", "lme_cases")
read_case <- function(name) read.csv(file.path(cases_dir, paste0(name, ".csv")))

models <- list(
  # name, data, fixed, random
  list("orthodont", "Orthodont", "distance ~ age * Sex", "~ age | Subject"),
  list("orthodont_ri", "Orthodont", "distance ~ age + Sex", "~ 1 | Subject"),
  list("oxboys", "Oxboys", "height ~ age", "~ age | Subject"),
  list("oxboys_quad", "Oxboys", "height ~ age + I(age^2)", "~ age + I(age^2) | Subject"),
  list("sleepstudy", "sleepstudy", "Reaction ~ Days", "~ Days | Subject"),
  list("bodyweight", "BodyWeight", "weight ~ Time * factor(Diet)", "~ Time | Rat"),
  list("ergostool", "ergoStool", "effort ~ Type", "~ 1 | Subject"),
  list("rail", "Rail", "travel ~ 1", "~ 1 | Rail"),
  list("chickweight", "ChickWeight", "weight ~ Time * factor(Diet)", "~ Time | Chick"),
  list("ovary", "Ovary", "follicles ~ sin(2 * pi * Time) + cos(2 * pi * Time)", "~ sin(2 * pi * Time) | Mare"),
  list("dialyzer", "Dialyzer",
       "rate ~ (pressure + I(pressure^2) + I(pressure^3) + I(pressure^4)) * factor(QB)",
       "~ pressure + I(pressure^2) | Subject"),
  list("machines", "Machines", "score ~ Machine", "~ 1 | Worker"),
  list("machines_slopes", "Machines", "score ~ Machine", "~ Machine - 1 | Worker"),
  list("orange", "Orange", "circumference ~ age", "~ 1 | Tree"),
  # rescaled by 1e3 and 1e-3
  list("sleepstudy_x1e3", "sleepstudy_x1e3", "Reaction ~ Days", "~ Days | Subject"),
  list("sleepstudy_x1e-3", "sleepstudy_x1e-3", "Reaction ~ Days", "~ Days | Subject"),
  list("oxboys_x1e3", "Oxboys_x1e3", "height ~ age", "~ age | Subject"),
  list("oxboys_x1e-3", "Oxboys_x1e-3", "height ~ age", "~ age | Subject"),
  # simulated hard cases
  list("sim_large_sd", "sim_large_sd", "y ~ x", "~ x | g"),
  list("sim_corr_pos", "sim_corr_pos", "y ~ x", "~ x | g"),
  list("sim_corr_neg", "sim_corr_neg", "y ~ x", "~ x | g"),
  list("sim_size_1_2", "sim_size_1_2", "y ~ x", "~ 1 | g")
)

to_lmer <- function(fixed, random) {
  rhs <- sub("^\\s*~\\s*", "", random)
  as.formula(paste(fixed, "+ (", rhs, ")"))
}

# nlme's natural parameters of G and sigma: log sd, log((1+r)/(1-r)) (pairs (1,2), (1,3), ...,
# (2,3), ...: the lower triangle column by column), log sigma
natural_pars <- function(G, sigma) {
  q <- nrow(G)
  sd <- sqrt(diag(G))
  z <- c()
  if (q > 1) for (j in 1:(q - 1)) for (i in (j + 1):q) {
    r <- G[i, j] / (sd[i] * sd[j])
    z <- c(z, log((1 + r) / (1 - r)))
  }
  c(log(sd), z, log(sigma))
}

# the REML or ML log-likelihood at natural parameters, fixed effects profiled out (GLS)
make_loglik <- function(X, Z, y, grp, reml) {
  idx <- split(seq_along(y), grp)
  q <- ncol(Z)
  n <- length(y)
  p <- ncol(X)
  function(pars) {
    sd <- exp(pars[1:q])
    R <- diag(q)
    k <- q
    if (q > 1) for (j in 1:(q - 1)) for (i in (j + 1):q) {
      k <- k + 1
      r <- (exp(pars[k]) - 1) / (exp(pars[k]) + 1)
      R[i, j] <- R[j, i] <- r
    }
    s2 <- exp(2 * pars[length(pars)])
    G <- R * outer(sd, sd)
    XVX <- matrix(0, p, p); XVy <- numeric(p); yVy <- 0; ldV <- 0
    for (g in idx) {
      Zj <- Z[g, , drop = FALSE]
      V <- Zj %*% G %*% t(Zj) + diag(s2, length(g))
      C <- chol(V)
      Xs <- backsolve(C, X[g, , drop = FALSE], transpose = TRUE)
      ys <- backsolve(C, y[g], transpose = TRUE)
      XVX <- XVX + crossprod(Xs); XVy <- XVy + crossprod(Xs, ys); yVy <- yVy + sum(ys^2)
      ldV <- ldV + 2 * sum(log(diag(C)))
    }
    CX <- chol(XVX)
    rss <- yVy - sum(backsolve(CX, XVy, transpose = TRUE)^2)
    if (reml) {
      -0.5 * ((n - p) * log(2 * pi) + ldV + 2 * sum(log(diag(CX))) + rss)
    } else {
      -0.5 * (n * log(2 * pi) + ldV + rss)
    }
  }
}

aov_table <- function(a) {
  list(terms = rownames(a), numDF = a$numDF, denDF = a$denDF, F = a[["F-value"]], p = a[["p-value"]])
}

out <- list()
for (m in models) {
  name <- m[[1]]; dname <- m[[2]]; fixed <- m[[3]]; random <- m[[4]]
  data <- read_case(dname)
  for (method in c("REML", "ML")) {
    key <- if (method == "REML") name else paste0(name, "_ml")
    cat(key, ": ")
    rec <- list(data = dname, fixed = fixed, random = random, method = method)
    fit <- tryCatch(lme(as.formula(fixed), data = data, random = as.formula(random), method = method),
                    error = function(e) e)
    if (inherits(fit, "error")) {
      rec$nlme_error <- conditionMessage(fit)
      fit <- tryCatch(
        lme(as.formula(fixed), data = data, random = as.formula(random), method = method,
            control = lmeControl(maxIter = 200, msMaxIter = 200, niterEM = 100, msMaxEval = 500)),
        error = function(e) e)
    }
    if (inherits(fit, "error")) {
      cat("nlme failed;")
    } else {
      r <- describe_lme(fit, dname, fixed, random)
      r$se_summary <- as.list(summary(fit)$tTable[, "Std.Error"])
      r$df_terms <- as.list(fit$fixDF$terms)
      r$anova_sequential <- aov_table(anova(fit))
      r$anova_marginal <- aov_table(anova(fit, type = "marginal"))
      if (!is.character(fit$apVar)) {
        av <- fit$apVar
        r$apvar <- list(pars = unname(attr(av, "Pars")), values = unname(unclass(av)[, ]))
      } else {
        r$apvar_error <- fit$apVar
      }
      rec$nlme <- r
      cat("nlme", format(r$loglik, digits = 10), ";")
    }
    lf <- tryCatch(suppressMessages(suppressWarnings(
      lmer(to_lmer(fixed, random), data = data, REML = (method == "REML"),
           control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))))),
      error = function(e) e)
    if (inherits(lf, "error")) {
      rec$lme4_error <- conditionMessage(lf)
      cat("lme4 failed\n")
    } else {
      rec$lme4 <- describe_lmer(lf, dname, fixed, random, note = "lme4::lmer (bobyqa)", ranef = FALSE)
      rec$lme4$singular <- isSingular(lf)
      cat("lme4", format(rec$lme4$loglik, digits = 10), "\n")
    }
    # the exact Hessian at the better optimum, unless it is on the boundary
    best <- NULL
    if (!is.null(rec[["nlme"]])) best <- rec[["nlme"]]
    if (!is.null(rec[["lme4"]]) && (is.null(best) || rec[["lme4"]]$loglik > best$loglik)) best <- rec[["lme4"]]
    Gb <- matrix(unlist(best$G$values), length(best$G$rows))
    sdb <- sqrt(diag(Gb))
    corr_ok <- TRUE
    if (nrow(Gb) > 1) corr_ok <- max(abs((Gb / outer(sdb, sdb))[lower.tri(Gb)])) < 0.999
    if (min(sdb) > 1e-6 * best$sigma && corr_ok) {
      lf_frame <- lFormula(to_lmer(fixed, random), data = data)
      X <- lf_frame$X
      Z <- model.matrix(as.formula(sub("\\|.*$", "", random)), data = lf_frame$fr)
      grp <- lf_frame$fr[[trimws(sub("^.*\\|", "", random))]]
      y <- model.response(lf_frame$fr)
      ll <- make_loglik(X, Z, y, grp, method == "REML")
      pars <- natural_pars(Gb, best$sigma)
      rec$hessian <- list(engine = best$engine, pars = pars, loglik = ll(pars),
                          values = hessian(ll, pars))
    }
    out[[key]] <- rec
  }
}
write_ref(out, "lme_cases")
