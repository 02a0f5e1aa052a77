-- wrk script: each request takes the next query path from QUERIES_FILE.
local paths = {}
local i = 0
init = function(args)
  for line in io.lines(os.getenv("QUERIES_FILE")) do
    paths[#paths + 1] = line
  end
end
request = function()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i])
end
