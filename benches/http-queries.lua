-- wrk script for benches/http-load.sh: each request takes the next of 24
-- /v1/match queries (12 places x 2 filter mixes), default GeoJSON bodies.
local places = {
  "Fresno,%20CA", "Houston,%20TX", "Chicago,%20IL", "Miami,%20FL", "10001",
  "Atlanta,%20GA", "San%20Juan,%20PR", "Anchorage,%20AK", "Lima,%20Peru",
  "Kyiv,%20Ukraine", "Toronto,%20Canada", "36.7378,-119.7871",
}
local filters = {
  "issue=labor_trafficking&limit=10",
  "issue=trafficking&language=es&exclude=law_enforcement&limit=10",
}
local paths = {}
for _, place in ipairs(places) do
  for _, filter in ipairs(filters) do
    paths[#paths + 1] = "/v1/match?near=" .. place .. "&" .. filter
  end
end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
