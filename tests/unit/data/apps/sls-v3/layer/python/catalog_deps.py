NAME = "catalog-deps"
