# Shared set-up for the reference parts: data, spida2's cvar/dvar, and writers.

hs_schools <- c(1317, 1906, 2208, 2458, 2626, 2629, 2639, 2658, 2771, 3013, 3610, 3992, 4292, 4511,
                4530, 4868, 5619, 5640, 5650, 5720, 5761, 5762, 6074, 6484, 6897, 7172, 7232, 7342,
                7345, 7688, 7697, 7890, 7919, 8531, 8627, 8707, 8854, 8874, 9550, 9586)
hs1_schools <- c(1224, 1374, 1436, 1462, 1499, 1637, 1946, 2030, 2208, 2277, 2336, 2526, 2626, 2629,
                 2639, 2655, 2658, 2818, 2995, 3013, 3039, 3332, 3351, 3427, 3533, 3610, 3657, 3716,
                 3838, 3967, 3992, 4173, 4253, 4350, 4410, 4530, 4868, 5192, 5619, 5640, 5720, 5783,
                 5815, 5819, 5937, 6074, 6144, 6170, 6291, 6397, 6469, 6578, 6808, 6990, 7011, 7101,
                 7172, 7232, 7332, 7342, 7345, 7635, 7688, 7890, 7919, 8193, 8357, 8627, 8628, 8707,
                 8854, 9021, 9158, 9198, 9225, 9347, 9359, 9397, 9550, 9586)

load_hsfull <- function() {
  st <- read.csv(file.path(root, "data", "hsfull.csv"))
  sc <- read.csv(file.path(root, "data", "schools.csv"))
  sc$MEANSES <- NULL
  d <- merge(st, sc, by = "school", sort = FALSE)
  d <- d[order(d$X), ]
  d$Sector <- factor(d$Sector, levels = c("Catholic", "Public"))
  d$Sex <- factor(d$Sex, levels = c("Female", "Male"))
  d$Minority <- factor(d$Minority, levels = c("No", "Yes"))
  d$sector <- as.integer(d$Sector == "Catholic")
  d$female <- as.integer(d$Sex == "Female")
  rownames(d) <- NULL
  d
}
hsfull <- load_hsfull()
hs <- hsfull[hsfull$school %in% hs_schools, ]
hs1 <- hsfull[hsfull$school %in% hs1_schools, ]
hs2 <- hsfull[!(hsfull$school %in% hs1_schools), ]
hs1$id <- hs1$school
hs2$id <- hs2$school

# spida2's cvar and dvar (cluster mean / deviation; a two-level factor gives a proportion)
cvar <- function(x, id, ...) {
  if (is.factor(x)) {
    m <- contrasts(x)[x, , drop = FALSE]
    out <- apply(m, 2, function(col) ave(col, id, FUN = function(v) mean(v, na.rm = TRUE)))
    if (ncol(m) == 1) return(as.vector(out))
    out
  } else {
    ave(as.numeric(x), id, FUN = function(v) mean(v, na.rm = TRUE))
  }
}
dvar <- function(x, id, ...) {
  if (is.factor(x)) {
    m <- contrasts(x)[x, , drop = FALSE]
    out <- m - cvar(x, id)
    if (ncol(m) == 1) return(as.vector(out))
    out
  } else {
    x - cvar(x, id)
  }
}

mat <- function(m) {
  m <- as.matrix(m)
  list(rows = rownames(m), cols = colnames(m), values = unname(matrix(as.numeric(m), nrow(m), ncol(m))))
}

describe_lme <- function(fit, data_name, formula, random, intervals = FALSE, ranef = FALSE) {
  G <- unclass(getVarCov(fit))
  G <- matrix(G, nrow(G), ncol(G), dimnames = dimnames(G))
  out <- list(
    engine = "nlme",
    data = data_name, fixed = formula, random = random, method = fit$method,
    fixef = as.list(fixef(fit)),
    se = as.list(sqrt(diag(fit$varFix))),
    df = as.list(fit$fixDF$X),
    vcov = mat(fit$varFix),
    sigma = fit$sigma,
    G = mat(G),
    loglik = as.numeric(logLik(fit)),
    aic = AIC(fit), bic = BIC(fit),
    nobs = fit$dims$N, ngroups = as.integer(fit$dims$ngrps[1])
  )
  if (intervals) {
    iv <- intervals(fit)
    out$intervals <- list(
      fixed = mat(iv$fixed),
      random = mat(iv$reStruct[[1]]),
      sigma = as.list(iv$sigma)
    )
  }
  if (ranef) {
    re <- ranef(fit)
    out$ranef <- mat(re)
  }
  out
}

describe_lmer <- function(fit, data_name, formula, random, note, ranef = TRUE) {
  vc <- VarCorr(fit)[[1]]
  G <- as.matrix(vc); attr(G, "stddev") <- NULL; attr(G, "correlation") <- NULL
  V <- as.matrix(vcov(fit))
  list(
    engine = "lme4", note = note,
    data = data_name, fixed = formula, random = random,
    method = if (isREML(fit)) "REML" else "ML",
    fixef = as.list(fixef(fit)),
    se = as.list(sqrt(diag(V))),
    vcov = mat(V),
    sigma = sigma(fit),
    G = mat(G),
    loglik = as.numeric(logLik(fit)),
    aic = AIC(fit), bic = BIC(fit),
    theta = unname(getME(fit, "theta")),
    nobs = nobs(fit), ngroups = as.integer(ngrps(fit)[1]),
    ranef = if (ranef) mat(ranef(fit)[[1]]) else NULL
  )
}

write_ref <- function(x, name) {
  path <- file.path(ref_dir, paste0(name, ".json"))
  writeLines(toJSON(x, auto_unbox = TRUE, digits = I(15), pretty = TRUE, na = "null"), path)
  cat("wrote", path, "\n")
}
