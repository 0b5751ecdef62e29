-- wrk: replay pre-built requests (wrk ... -s replay.lua -- <file> <threads>).
-- The file holds one request a line: METHOD<TAB>PATH<TAB>HEADER<TAB>VALUE<TAB>BODY.
-- Thread t of n sends lines t, t+n, t+2n ... in order; past its last line it starts
-- again (the caller seeds more than a run can use, and checks that none was repeated).
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  local threads = tonumber(args[2])
  local id = wrk.thread:get("id")
  requests = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % threads == id - 1 then
      local method, path, name, value, body =
        line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { [name] = value }
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
    i = i + 1
  end
  next_index = 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
