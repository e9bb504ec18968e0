# Mixed models of the course notes (on hs) and of Lab 1 (on hs1), fitted with nlme::lme.
# Where nlme stops (singular convergence, iteration limit) the same model is fitted with
# lme4::lmer and its optimum is recorded instead, with nlme's message.

hs_pub <- hs[hs$Sector == "Public", ]
hs1$ses.m <- cvar(hs1$ses, hs1$id)
hs1$Min.prop <- cvar(hs1$Minority, hs1$id)

models <- list(
  # ---- the notes, hs ----
  list("hs_oneway", "hs", "mathach ~ 1", "~ 1 | school", "REML", TRUE, TRUE),
  list("hs_oneway_ml", "hs", "mathach ~ 1", "~ 1 | school", "ML", FALSE, FALSE),
  list("hs_means_outcomes", "hs", "mathach ~ Sector", "~ 1 | school", "REML", FALSE, FALSE),
  list("hs_ancova", "hs", "mathach ~ ses", "~ 1 | school", "REML", FALSE, FALSE),
  list("hs_random_coef", "hs", "mathach ~ ses", "~ 1 + ses | school", "REML", TRUE, TRUE),
  list("hs_slopes_outcomes", "hs", "mathach ~ ses * Sector", "~ 1 + ses | school", "REML", TRUE, TRUE),
  list("hs_slopes_outcomes_ml", "hs", "mathach ~ ses * Sector", "~ 1 + ses | school", "ML", FALSE, FALSE),
  list("hs_nonrandom_slopes", "hs", "mathach ~ ses * Sector", "~ 1 | school", "REML", FALSE, FALSE),
  list("hs_parallel_slopes", "hs", "mathach ~ ses + Sector", "~ 1 + ses | school", "REML", FALSE, FALSE),
  list("hs_ctx_cwg", "hs", "mathach ~ cvar(ses, school) + dvar(ses, school)", "~ 1 + dvar(ses, school) | school", "REML", FALSE, FALSE),
  list("hs_ctx_raw", "hs", "mathach ~ cvar(ses, school) + ses", "~ 1 + dvar(ses, school) | school", "REML", FALSE, FALSE),
  list("hs_ctx_sector", "hs", "mathach ~ (cvar(ses, school) + dvar(ses, school)) * Sector", "~ 1 + dvar(ses, school) | school", "REML", FALSE, FALSE),
  list("hs_method6", "hs", "mathach ~ ses * Sector + cvar(ses, school)", "~ 1 + ses | school", "REML", FALSE, TRUE),
  list("hs_public_ctx", "hs_pub", "mathach ~ ses + cvar(ses, school)", "~ 1 | school", "REML", FALSE, FALSE),
  list("hs_public_cwg", "hs_pub", "mathach ~ dvar(ses, school) + cvar(ses, school)", "~ 1 | school", "REML", FALSE, FALSE),
  # ---- hs2: nlme fails here ----
  list("hs2_slopes_outcomes", "hs2", "mathach ~ ses * Sector", "~ 1 + ses | school", "REML", FALSE, FALSE),
  # ---- Lab 1, example 1, hs1 ----
  list("lab_fit", "hs1", "mathach ~ ses * Sector", "~ 1 + ses | id", "REML", FALSE, FALSE),
  list("lab_fitc", "hs1", "mathach ~ ses * Sector + cvar(ses, id)", "~ 1 + ses | id", "REML", TRUE, TRUE),
  list("lab_fitcd", "hs1", "mathach ~ dvar(ses, id) * Sector + cvar(ses, id)", "~ 1 + ses | id", "REML", FALSE, FALSE),
  list("lab_fitca", "hs1", "mathach ~ ses * Sector + cvar(ses, id)", "~ 1 + dvar(ses, id) | id", "REML", FALSE, FALSE),
  list("lab_fit2", "hs1", "mathach ~ (ses + cvar(ses, id)) * Sector", "~ 1 + ses | id", "REML", FALSE, FALSE),
  list("lab_fitn", "hs1", "mathach ~ ses * Sector + ses.m", "~ 1 + ses | id", "REML", FALSE, FALSE),
  list("lab_fit_ml", "hs1", "mathach ~ ses * Sector", "~ 1 + ses | id", "ML", FALSE, FALSE),
  list("lab_fitc_ri", "hs1", "mathach ~ ses * Sector + cvar(ses, id)", "~ 1 | id", "REML", FALSE, FALSE),
  # ---- Lab 1, example 2, hs1 ----
  list("lab2_null", "hs1", "mathach ~ 1", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_fit", "hs1", "mathach ~ ses * Minority", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_fit2", "hs1", "mathach ~ ses * Minority", "~ ses * Minority | id", "REML", FALSE, FALSE),
  list("lab2_fit_m", "hs1", "mathach ~ ses * Minority", "~ 1 + dvar(Minority, id) | id", "REML", FALSE, FALSE),
  list("lab2_fit_s", "hs1", "mathach ~ ses * Minority", "~ 1 + dvar(ses, id) | id", "REML", FALSE, FALSE),
  list("lab2_fit_sm", "hs1", "mathach ~ ses * Minority", "~ 1 + dvar(Minority, id) + dvar(ses, id) | id", "REML", FALSE, TRUE),
  list("lab2_fit_sm_ac", "hs1", "mathach ~ ses * Minority * cvar(ses, id) * cvar(Minority, id)", "~ 1 + dvar(Minority, id) + dvar(ses, id) | id", "REML", FALSE, FALSE),
  list("lab2_fit_sm_ac3", "hs1", "mathach ~ (ses + Minority + cvar(ses, id) + cvar(Minority, id))^3", "~ 1 + dvar(Minority, id) + dvar(ses, id) | id", "REML", FALSE, FALSE),
  list("lab2_fit_sm_ac4", "hs1", "mathach ~ (ses + Minority + cvar(Minority, id))^3 + cvar(ses, id)", "~ 1 + dvar(Minority, id) + dvar(ses, id) | id", "REML", FALSE, FALSE),
  list("lab2_fit_sm_ac5", "hs1", "mathach ~ ses * Minority + cvar(Minority, id) + cvar(ses, id)", "~ 1 + dvar(Minority, id) + dvar(ses, id) | id", "REML", FALSE, FALSE),
  list("lab2_ff", "hs1", "mathach ~ ses * Minority + cvar(ses, id)", "~ 1 + dvar(Minority, id) + dvar(ses, id) | id", "REML", FALSE, TRUE),
  list("lab2_fit2c", "hs1", "mathach ~ ses * Minority", "~ 1 + dvar(Minority, id) | id", "REML", FALSE, FALSE),
  list("lab2_hausman_ri", "hs1", "mathach ~ ses * Minority + cvar(ses, id) + cvar(Minority, id)", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_refine1", "hs1", "mathach ~ ses * Minority * cvar(ses, id) * cvar(Minority, id)", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_refine2", "hs1", "mathach ~ (ses + Minority + cvar(ses, id) + cvar(Minority, id))^2", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_refine3", "hs1", "mathach ~ (ses + Minority + cvar(Minority, id))^2 + cvar(ses, id)", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_refine4", "hs1", "mathach ~ ses * Minority + ses * cvar(Minority, id) + cvar(ses, id)", "~ 1 | id", "REML", FALSE, FALSE),
  list("lab2_ff3", "hs1", "mathach ~ ses + Minority + ses * cvar(Minority, id) + cvar(ses, id)", "~ 1 | id", "REML", FALSE, TRUE),
  list("lab2_ff3c", "hs1", "mathach ~ ses + Minority + ses * cvar(Minority, id) + cvar(ses, id)", "~ 1 + dvar(Minority, id) | id", "REML", FALSE, FALSE),
  list("lab2_fp", "hs1", "mathach ~ ses * Min.prop + Minority + ses.m", "~ 1 + dvar(Minority, id) | id", "REML", FALSE, FALSE)
)

to_lmer <- function(fixed, random) {
  rhs <- sub("^\\s*~\\s*", "", random)
  as.formula(paste(fixed, "+ (", rhs, ")"))
}

out <- list()
for (m in models) {
  name <- m[[1]]; dname <- m[[2]]; fixed <- m[[3]]; random <- m[[4]]; method <- m[[5]]
  want_int <- m[[6]]; want_re <- m[[7]]
  data <- get(dname)
  cat(name, ": ")
  fit <- tryCatch(
    lme(as.formula(fixed), data = data, random = as.formula(random), method = method),
    error = function(e) e
  )
  default_error <- NULL
  if (inherits(fit, "error")) {
    # the Lab's cure first: larger iteration limits
    default_error <- conditionMessage(fit)
    fit <- tryCatch(
      lme(as.formula(fixed), data = data, random = as.formula(random), method = method,
          control = lmeControl(maxIter = 200, msMaxIter = 200, niterEM = 100, msMaxEval = 500)),
      error = function(e) e
    )
  }
  if (inherits(fit, "error")) {
    msg <- conditionMessage(fit)
    cat("nlme failed (", msg, "); lme4\n")
    lf <- lmer(to_lmer(fixed, random), data = data, REML = (method == "REML"),
               control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
    rec <- describe_lmer(lf, dname, fixed, random, note = paste("nlme::lme failed:", msg))
    rec$singular <- isSingular(lf)
    rec$nlme_error <- msg
    if (!is.null(default_error)) rec$nlme_default_error <- default_error
  } else {
    cat("nlme ok\n")
    rec <- describe_lme(fit, dname, fixed, random, intervals = want_int, ranef = want_re)
    # lme4's optimum of the same model, as a second opinion on whether nlme reached the optimum
    lf <- suppressMessages(suppressWarnings(lmer(to_lmer(fixed, random), data = data, REML = (method == "REML"),
               control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))))
    rec$lme4 <- describe_lmer(lf, dname, fixed, random, note = "same model, lme4::lmer (bobyqa)", ranef = FALSE)
    rec$lme4$singular <- isSingular(lf)
    if (!is.null(default_error)) {
      rec$nlme_default_error <- default_error
      rec$control <- "maxIter = 200, msMaxIter = 200, niterEM = 100, msMaxEval = 500"
    }
  }
  out[[name]] <- rec
}
write_ref(out, "lme_models")
