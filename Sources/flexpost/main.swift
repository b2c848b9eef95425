import FlexpostApp

await FlexpostMain.main()
