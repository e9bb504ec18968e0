# Time lme4::lmer on the models of benchmarks/bench_lme.py (called by it; not needed otherwise).
#
#     Rscript benchmarks/lme4_times.R SPEC.json OUT.json
#
# SPEC.json: a list of {name, csv, formula, reml, reps}; every fit is timed from the data frame to
# the fitted object (formula processing included, as a user waits for it), after two warm-up fits.
# OUT.json: {name: {ms: the times of the fits in milliseconds, loglik: log-likelihood}}.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
spec <- fromJSON(args[1], simplifyVector = FALSE)
out <- list()
for (m in spec) {
  d <- read.csv(m$csv, stringsAsFactors = TRUE)
  f <- as.formula(m$formula)
  fit <- function() lmer(f, data = d, REML = m$reml)
  for (i in 1:2) res <- fit()
  times <- numeric(m$reps)
  for (i in seq_len(m$reps)) {
    t0 <- Sys.time()
    res <- fit()
    times[i] <- as.numeric(Sys.time() - t0, units = "secs")
  }
  out[[m$name]] <- list(ms = I(1000 * times), loglik = as.numeric(logLik(res)))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(10)), args[2])
