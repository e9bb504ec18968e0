# nlme's bdf (Lab 1, example 1, exercise on the Dutch language scores): the two models of the
# book's solution, the pretest as a covariate and the gain score, fitted by nlme.
# Reads the committed data/bdf.csv (as hlmkit.load_bdf does), not nlme's copy, so that both sides
# fit the same numbers. Writes tests/reference/bdf.json.

bdf <- read.csv(file.path(root, "data", "bdf.csv"))
for (v in c("sex", "Minority", "repeatgr", "denomina", "natitest", "mixedgra")) bdf[[v]] <- factor(bdf[[v]])
bdf$gain <- bdf$langPOST - bdf$langPRET
bdf$IQ.m <- cvar(bdf$IQ.verb, bdf$schoolNR)
bdf$IQ.d <- dvar(bdf$IQ.verb, bdf$schoolNR)
bdf$ses.m <- cvar(bdf$ses, bdf$schoolNR)

fixed <- "IQ.verb + IQ.m + ses + ses.m + sex + Minority + denomina"
rename <- c("IQ.m" = "cvar(IQ.verb, schoolNR)", "ses.m" = "cvar(ses, schoolNR)",
            "IQ.d" = "dvar(IQ.verb, schoolNR)")
relabel <- function(x) {
  nm <- names(x)
  hit <- nm %in% names(rename)
  nm[hit] <- rename[nm[hit]]
  setNames(x, nm)
}

fits <- list(
  pretest = lme(as.formula(paste("langPOST ~ langPRET +", fixed)), bdf, random = ~ 1 + IQ.d | schoolNR),
  gain = lme(as.formula(paste("gain ~", fixed)), bdf, random = ~ 1 + IQ.d | schoolNR)
)
out <- lapply(fits, function(f) {
  d <- describe_lme(f, "bdf", paste(deparse(formula(f)), collapse = ""), "~ 1 + dvar(IQ.verb, schoolNR) | schoolNR")
  d$fixef <- as.list(relabel(unlist(d$fixef)))
  d$se <- as.list(relabel(unlist(d$se)))
  d$df <- as.list(relabel(unlist(d$df)))
  d$vcov <- NULL
  d$G <- NULL
  d
})
write_ref(out, "bdf")
