def calls(park):
    park()
