from papers.tui.entry import main

main()
