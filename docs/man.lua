-- pandoc filter: a page of docs/ as a manual page (docs/CMakeLists.txt).
-- Tables become lists of the first column's entries, each followed by the
-- other columns (headed by their column's name when there are several):
-- at 80 columns a table's narrow cells cannot hold option names and paths.
-- Links to the pages that are manual pages name those pages (strata.conf(5));
-- links to the other pages name the installed file. Section headings are
-- in capitals, as manual pages have them (man-pages(7)).

local man_pages = {
	["configuration.md"] = "strata.conf(5)",
	["control.md"] = "stratactl(1)",
	["stratad.md"] = "stratad(8)",
}
local docdir = "the documentation"

function Meta(meta)
	if meta.strata_docdir then
		docdir = pandoc.utils.stringify(meta.strata_docdir)
	end
end

local function link(el)
	local file = el.target:match("^([%w_.-]+%.md)")
	if not file then
		return nil
	end
	local name = man_pages[file] or (docdir .. "/" .. file)
	local text = pandoc.utils.stringify(el.content)
	if text == file or text == name then
		return pandoc.Str(name)
	end
	local out = el.content:clone()
	out:insert(pandoc.Str(" (" .. name .. ")"))
	return out
end

local function table_to_list(tbl)
	local t = pandoc.utils.to_simple_table(tbl)
	local headers = {}
	for i, h in ipairs(t.headers) do
		headers[i] = pandoc.utils.stringify(h)
	end
	local items = {}
	for _, row in ipairs(t.rows) do
		local term = pandoc.utils.blocks_to_inlines(row[1])
		local definition = pandoc.List()
		for i = 2, #row do
			local cell = pandoc.utils.blocks_to_inlines(row[i])
			if #cell > 0 then
				if #row > 2 and headers[i] ~= "" then
					cell:insert(1, pandoc.Str(headers[i] .. ": "))
				end
				definition:insert(pandoc.Plain(cell))
			end
		end
		table.insert(items, { term, { definition } })
	end
	return pandoc.DefinitionList(items)
end

local function header(el)
	if el.level == 1 then
		el.content = el.content:walk({
			Str = function(s)
				return pandoc.Str(s.text:upper())
			end,
		})
		return el
	end
end

-- Meta first, so that links know the documentation's directory.
return {
	{ Meta = Meta },
	{ Link = link, Table = table_to_list, Header = header },
}
