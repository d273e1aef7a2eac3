-- JWKS and discovery, alternately.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local paths = { os.getenv("BENCH_JWKS"), os.getenv("BENCH_DISCOVERY") }
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", paths[n % 2 + 1])
end
